// The official OpenAI and Anthropic Node clients against squall's fake providers: plain and streaming
// requests, error parsing, and a 429 retried after the Retry-After the fault sets.
// Usage: node sdk_test.mjs <server binary> <scenario.json>
import { startServer } from './serve.mjs';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const [serverBin, scenario] = process.argv.slice(2);
const { server, urls } = await startServer(serverBin, [scenario], ['openai', 'anthropic']);

const words = (s) => s.split(/\s+/).filter(Boolean).length;
const origin = (name) => new URL(urls[name]).origin;
const arm = async (name, fault) => {
  const r = await fetch(`${origin(name)}/squall/faults`, { method: 'POST', body: JSON.stringify(fault) });
  assert.equal(r.status, 201, await r.text());
};
const clear = (name) => fetch(`${origin(name)}/squall/faults`, { method: 'DELETE' });

const openai = new OpenAI({ baseURL: urls.openai, apiKey: 'sk-test', maxRetries: 0 });
const anthropic = new Anthropic({ baseURL: urls.anthropic, apiKey: 'sk-ant-test', maxRetries: 0 });
const tests = {
  async openaiChat() {
    const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 5,
      messages: [{ role: 'user', content: 'one two three' }] });
    assert.equal(words(r.choices[0].message.content), 5);
    assert.deepEqual(r.usage, { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
  },
  async openaiStream() {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 12, stream: true,
      stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let text = '', usage = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(words(text), 12);
    assert.equal(usage.completion_tokens, 12);
  },
  async openaiEmbeddings() {
    const r = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'a b c' });
    assert.equal(r.data[0].embedding.length, 1536);
    assert.equal(r.usage.prompt_tokens, 3);
  },
  async openaiErrors() {
    await assert.rejects(openai.chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found');
    await assert.rejects(openai.chat.completions.create({ model: 'gpt-4o-mini' }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages');
  },
  async openaiRetriesA429AfterRetryAfter() {
    await arm('openai', { for_s: 0.5, errors: { '429': 1 }, retry_after_s: 1 });
    const patient = new OpenAI({ baseURL: urls.openai, apiKey: 'sk-test', maxRetries: 2 });
    const t0 = performance.now();
    const { data, response } = await patient.chat.completions
      .create({ model: 'gpt-4o-mini', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }).withResponse();
    const waited_ms = performance.now() - t0;
    assert.equal(response.status, 200);
    assert.equal(data.usage.completion_tokens, 1);
    assert.ok(waited_ms >= 900, `retried after ${waited_ms} ms, before the 1 s Retry-After`);
    console.log(`  openai 429 retried after ${waited_ms.toFixed(0)} ms (retry-after 1 s)`);
    await clear('openai');
  },
  async anthropicMessage() {
    const m = await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 7,
      messages: [{ role: 'user', content: 'one two' }] });
    assert.equal(m.type, 'message');
    assert.equal(words(m.content[0].text), 7);
    assert.equal(m.usage.input_tokens, 2);
    assert.equal(m.usage.output_tokens, 7);
  },
  async anthropicStream() {
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4', max_tokens: 20,
      messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    stream.on('text', (t) => { text += t; });
    const final = await stream.finalMessage();
    assert.equal(words(text), 20);
    assert.equal(final.usage.output_tokens, 20);
    // The scenario's answers run 200 tokens: max_tokens 20 cuts them, and the stream says so.
    assert.equal(final.stop_reason, 'max_tokens');
  },
  async anthropicOverloaded() {
    await arm('anthropic', { for_s: 30, errors: { '529': 1 } });
    await assert.rejects(anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 1,
      messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 529 && e.error?.error?.type === 'overloaded_error');
    await clear('anthropic');
  },
  async anthropicErrorEventMidStream() {
    await arm('anthropic', { for_s: 30, wire: { error_event: 1 } });
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4', max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }] });
    await assert.rejects(stream.finalMessage(), (e) => /overloaded/i.test(String(e?.message ?? e)));
    await clear('anthropic');
  },
};

let failed = 0;
for (const [name, test] of Object.entries(tests)) {
  try {
    await test();
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
  }
}
server.kill('SIGTERM');
process.exit(failed ? 1 : 0);
