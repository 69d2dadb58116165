// The official Gemini Node client (@google/genai) against squall's fake providers: generateContent,
// generateContentStream, countTokens and the model list, Google's error envelope raised as the SDK's
// ApiError, maxOutputTokens ending the answer with MAX_TOKENS, and an error in the middle of a stream.
// Usage: node gemini_test.mjs <server binary> <scenario.json>
import { startServer } from './serve.mjs';
import assert from 'node:assert/strict';
import { GoogleGenAI, ApiError, FinishReason } from '@google/genai';

const [serverBin, scenario] = process.argv.slice(2);
const { server, urls } = await startServer(serverBin, [scenario], ['gemini']);

const words = (s) => s.split(/\s+/).filter(Boolean).length;
const arm = async (fault) => {
  const r = await fetch(`${urls.gemini}/squall/faults`, { method: 'POST', body: JSON.stringify(fault) });
  assert.equal(r.status, 201, await r.text());
};
const clear = () => fetch(`${urls.gemini}/squall/faults`, { method: 'DELETE' });

// The printed URL is the origin, which is what the client takes as its base URL.
const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: urls.gemini } });
const model = 'gemini-2.0-flash';
const tests = {
  async generateContent() {
    const r = await ai.models.generateContent({ model, contents: 'one two three',
      config: { systemInstruction: 'be brief', maxOutputTokens: 6 } });
    assert.equal(words(r.text), 6);
    assert.equal(r.candidates[0].content.role, 'model');
    assert.equal(r.usageMetadata.promptTokenCount, 5);
    assert.equal(r.usageMetadata.candidatesTokenCount, 6);
    assert.equal(r.usageMetadata.totalTokenCount, 11);
    assert.equal(r.modelVersion, model);
    assert.ok(r.responseId, 'a responseId');
  },
  async v1betaAsTheRestExamplesUse() {
    const beta = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: urls.gemini, apiVersion: 'v1beta' } });
    const r = await beta.models.generateContent({ model, contents: 'x', config: { maxOutputTokens: 2 } });
    assert.equal(words(r.text), 2);
  },
  async maxOutputTokensEndsWithMaxTokens() {
    const r = await ai.models.generateContent({ model, contents: 'x', config: { maxOutputTokens: 3 } });
    assert.equal(r.candidates[0].finishReason, FinishReason.MAX_TOKENS);
    assert.equal(words(r.text), 3);
  },
  async withoutALimitTheAnswerStops() {
    const r = await ai.models.generateContent({ model, contents: [{ role: 'user', parts: [{ text: 'hi there' }] }] });
    assert.equal(r.candidates[0].finishReason, FinishReason.STOP);
    assert.equal(r.usageMetadata.promptTokenCount, 2);
  },
  async generateContentStream() {
    const stream = await ai.models.generateContentStream({ model, contents: 'hi', config: { maxOutputTokens: 25 } });
    let text = '', chunks = 0, last = null;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      chunks++;
      last = chunk;
    }
    assert.equal(words(text), 25);
    assert.ok(chunks >= 2, `${chunks} chunks`);
    assert.equal(last.candidates[0].finishReason, FinishReason.MAX_TOKENS);
    assert.equal(last.usageMetadata.candidatesTokenCount, 25);
  },
  async countTokensAndModels() {
    const c = await ai.models.countTokens({ model, contents: 'a b c d' });
    assert.equal(c.totalTokens, 4);
    const m = await ai.models.get({ model });
    assert.equal(m.name, `models/${model}`);
    const names = [];
    for await (const listed of await ai.models.list()) names.push(listed.name);
    assert.deepEqual(names, [`models/${model}`]);
  },
  async functionCall() {
    const r = await ai.models.generateContent({ model, contents: 'weather in Paris?',
      config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT',
        properties: { city: { type: 'STRING' } } } }] }],
        toolConfig: { functionCallingConfig: { mode: 'ANY' } } } });
    assert.equal(r.functionCalls?.[0]?.name, 'get_weather');
  },
  async jsonResponse() {
    const r = await ai.models.generateContent({ model, contents: 'x',
      config: { responseMimeType: 'application/json', maxOutputTokens: 4 } });
    assert.equal(typeof JSON.parse(r.text), 'object');
  },
  async unknownModelIsNotFound() {
    await assert.rejects(ai.models.generateContent({ model: 'gemini-9', contents: 'x' }),
      (e) => e instanceof ApiError && e.status === 404 && /NOT_FOUND/.test(e.message));
  },
  async badRequestIsInvalidArgument() {
    await assert.rejects(ai.models.generateContent({ model, contents: [{ role: 'user', parts: [] }] }),
      (e) => e instanceof ApiError && e.status === 400 && /INVALID_ARGUMENT/.test(e.message) &&
        /contents\[0\]\.parts/.test(e.message));
  },
  async resourceExhausted() {
    await arm({ for_s: 30, errors: { '429': 1 }, retry_after_s: 2 });
    await assert.rejects(ai.models.generateContent({ model, contents: 'x' }), (e) => {
      assert.ok(e instanceof ApiError, String(e));
      assert.equal(e.status, 429);
      const body = JSON.parse(e.message);
      assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
      const retry = body.error.details.find((d) => d['@type'].endsWith('google.rpc.RetryInfo'));
      assert.equal(retry.retryDelay, '2s');
      return true;
    });
    await clear();
  },
  async unavailable() {
    await arm({ for_s: 30, errors: { '503': 1 } });
    await assert.rejects(ai.models.generateContent({ model, contents: 'x' }),
      (e) => e instanceof ApiError && e.status === 503 && /UNAVAILABLE/.test(e.message));
    await clear();
  },
  async errorInTheMiddleOfAStream() {
    await arm({ for_s: 30, wire: { error_event: 1 } });
    const stream = await ai.models.generateContentStream({ model, contents: 'hi', config: { maxOutputTokens: 50 } });
    await assert.rejects((async () => { for await (const _ of stream); })(),
      (e) => e instanceof ApiError && e.status === 503);
    await clear();
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
