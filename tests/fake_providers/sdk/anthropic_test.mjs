// The official Anthropic Node client against squall's fake Anthropic provider, on tool use: messages.create
// with tools and tool_choice "any" (a tool_use block the SDK parses), the same through messages.stream (the
// SDK assembles input_json_delta pieces into the final message's input), an agent loop (a tool_result turn
// answered in words, "end_turn"), a call cut by max_tokens, and messages.countTokens.
// Usage: node anthropic_test.mjs <server binary> <scenario.json>
import { startServer } from './serve.mjs';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';

const [serverBin, scenario] = process.argv.slice(2);
const { server, urls } = await startServer(serverBin, [scenario], ['anthropic']);

// The answer's natural length, as squall's load generator plans it.
const tokens = (n) => ({ headers: { 'x-squall-output-tokens': String(n) } });
const anthropic = new Anthropic({ baseURL: urls.anthropic, apiKey: 'sk-ant-test', maxRetries: 0 });

const weather = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
  },
  required: ['city', 'unit', 'days'],
  additionalProperties: false,
};
// `a` is an instance of `weather`.
const checkWeather = (a) => {
  assert.deepEqual(Object.keys(a).sort(), ['city', 'days', 'unit']);
  assert.equal(typeof a.city, 'string');
  assert.ok(['celsius', 'fahrenheit'].includes(a.unit), a.unit);
  assert.ok(Number.isInteger(a.days) && a.days >= 1 && a.days <= 7, String(a.days));
};
// A client tool beside a server tool, which runs on Anthropic's side and the fake never calls.
const tools = [
  { type: 'web_search_20250305', name: 'web_search', max_uses: 1 },
  { name: 'get_weather', description: 'the forecast for a city', input_schema: weather },
];
const ask = { model: 'claude-sonnet-4', max_tokens: 1024, tools,
  messages: [{ role: 'user', content: 'weather in Paris?' }] };

const tests = {
  async toolUseCreate() {
    const m = await anthropic.messages.create({ ...ask, tool_choice: { type: 'any' } }, tokens(30));
    assert.equal(m.stop_reason, 'tool_use');
    assert.equal(m.content.length, 1);
    const [block] = m.content;
    assert.equal(block.type, 'tool_use');
    assert.match(block.id, /^toolu_[A-Za-z0-9]{24}$/);
    assert.equal(block.name, 'get_weather');
    checkWeather(block.input);
    assert.equal(m.usage.output_tokens, 30);
  },
  async toolUseStream() {
    const stream = anthropic.messages.stream({ ...ask, tool_choice: { type: 'any' } }, tokens(25));
    let pieces = 0;
    let partial = '';
    stream.on('inputJson', (delta) => { pieces++; partial += delta; });
    const final = await stream.finalMessage();
    assert.ok(pieces > 1, `the input came in ${pieces} pieces`);
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.content[0].type, 'tool_use');
    assert.match(final.content[0].id, /^toolu_/);
    checkWeather(final.content[0].input);
    assert.deepEqual(final.content[0].input, JSON.parse(partial));
    assert.equal(final.usage.output_tokens, 25);
  },
  async agentLoop() {
    const messages = [...ask.messages];
    const first = await anthropic.messages.create({ ...ask, messages }, tokens(20));
    assert.equal(first.stop_reason, 'tool_use');
    const call = first.content.find((b) => b.type === 'tool_use');
    messages.push({ role: 'assistant', content: first.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny, 21 C' }] });
    const second = await anthropic.messages.create({ ...ask, messages }, tokens(8));
    assert.equal(second.stop_reason, 'end_turn');
    assert.equal(second.content[0].type, 'text');
    assert.equal(second.content[0].text.split(/\s+/).filter(Boolean).length, 8);
  },
  async cutToolUse() {
    const m = await anthropic.messages.create({ ...ask, max_tokens: 10, tool_choice: { type: 'any' } }, tokens(40));
    assert.equal(m.stop_reason, 'max_tokens');
    assert.equal(m.content[0].type, 'tool_use');
    assert.equal(typeof m.content[0].input, 'object');
    assert.ok(Object.keys(m.content[0].input).length < 3, JSON.stringify(m.content[0].input));
  },
  async refusedChoice() {
    await assert.rejects(anthropic.messages.create({ ...ask, tool_choice: { type: 'tool', name: 'nope' } }),
      (e) => e instanceof Anthropic.BadRequestError && e.error?.error?.type === 'invalid_request_error');
  },
  async countTokens() {
    const counted = await anthropic.messages.countTokens({ model: 'claude-sonnet-4', system: 'be brief',
      messages: [{ role: 'user', content: 'one two three' }] });
    assert.equal(counted.input_tokens, 5);
    const billed = await anthropic.messages.create({ model: 'claude-sonnet-4', max_tokens: 3, system: 'be brief',
      messages: [{ role: 'user', content: 'one two three' }] });
    assert.equal(billed.usage.input_tokens, counted.input_tokens);
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
