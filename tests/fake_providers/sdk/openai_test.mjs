// The official OpenAI Node client against squall's fake OpenAI provider, on today's APIs: the Responses
// API plain and through its stream helper, chat with tools and tool_choice "required", structured outputs
// through the SDK's parse helpers, an answer cut by max_tokens, and the AzureOpenAI class on Azure's paths.
// Usage: node openai_test.mjs <server binary> <scenario.json>
import { startServer } from './serve.mjs';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI } from 'openai';
import { LengthFinishReasonError } from 'openai/core/error';

const [serverBin, scenario] = process.argv.slice(2);
const { server, urls } = await startServer(serverBin, [scenario], ['openai']);

const words = (s) => s.split(/\s+/).filter(Boolean).length;
const origin = new URL(urls.openai).origin;
const arm = async (fault) => {
  const r = await fetch(`${origin}/squall/faults`, { method: 'POST', body: JSON.stringify(fault) });
  assert.equal(r.status, 201, await r.text());
};
const clear = () => fetch(`${origin}/squall/faults`, { method: 'DELETE' });
// The answer's natural length, as squall's load generator plans it.
const tokens = (n) => ({ headers: { 'x-squall-output-tokens': String(n) } });

const openai = new OpenAI({ baseURL: urls.openai, apiKey: 'sk-test', maxRetries: 0 });

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
const chatTools = [{ type: 'function', function: { name: 'get_weather', parameters: weather, strict: true } }];

const tests = {
  async responsesCreate() {
    const r = await openai.responses.create({ model: 'gpt-4o-mini', input: 'one two three',
      instructions: 'be brief', max_output_tokens: 64 }, tokens(10));
    assert.equal(r.object, 'response');
    assert.equal(r.status, 'completed');
    assert.match(r.id, /^resp_/);
    assert.equal(words(r.output_text), 10);
    assert.equal(r.usage.input_tokens, 5);
    assert.equal(r.usage.output_tokens, 10);
    assert.equal(r.usage.total_tokens, 15);
  },
  async responsesStream() {
    const stream = openai.responses.stream({ model: 'gpt-4o-mini', input: 'hi', max_output_tokens: 64 }, tokens(25));
    const types = [];
    let deltas = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') deltas += event.delta;
    }
    const final = await stream.finalResponse();
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(types.includes('response.output_text.done'));
    assert.equal(words(deltas), 25);
    assert.equal(final.output_text, deltas);
    assert.equal(final.usage.output_tokens, 25);
  },
  async responsesIncompleteWhenCut() {
    const r = await openai.responses.create({ model: 'gpt-4o-mini', input: 'hi', max_output_tokens: 16 }, tokens(40));
    assert.equal(r.status, 'incomplete');
    assert.equal(r.incomplete_details.reason, 'max_output_tokens');
    assert.equal(words(r.output_text), 16);
  },
  async responsesErrorEventRaises() {
    await arm({ for_s: 60, wire: { error_event: 1 } });
    try {
      const stream = openai.responses.stream({ model: 'gpt-4o-mini', input: 'hi' }, tokens(30));
      await assert.rejects((async () => { for await (const _ of stream); })(), (e) => e instanceof OpenAI.APIError);
    } finally {
      await clear();
    }
  },
  async chatToolsRequired() {
    const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', tools: chatTools, tool_choice: 'required',
      messages: [{ role: 'user', content: 'weather in Paris?' }] });
    const choice = r.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.match(call.id, /^call_/);
    checkWeather(JSON.parse(call.function.arguments));
  },
  async chatToolsStreamHelper() {
    const stream = openai.chat.completions.stream({ model: 'gpt-4o-mini', tools: chatTools, tool_choice: 'required',
      messages: [{ role: 'user', content: 'weather in Paris?' }] }, tokens(12));
    const final = await stream.finalChatCompletion();
    const call = final.choices[0].message.tool_calls[0];
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.equal(call.function.name, 'get_weather');
    checkWeather(call.function.parsed_arguments);
  },
  async chatParseJsonSchema() {
    const r = await openai.chat.completions.parse({ model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'weather' }],
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: weather, strict: true } } });
    checkWeather(r.choices[0].message.parsed);
  },
  async responsesParseTextFormat() {
    const r = await openai.responses.parse({ model: 'gpt-4o-mini', input: 'weather',
      text: { format: { type: 'json_schema', name: 'weather', schema: weather, strict: true } } });
    checkWeather(r.output_parsed);
  },
  async responsesFunctionCall() {
    const r = await openai.responses.create({ model: 'gpt-4o-mini', input: 'weather in Paris?', tool_choice: 'required',
      tools: [{ type: 'function', name: 'get_weather', parameters: weather, strict: true }] });
    const call = r.output[0];
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'get_weather');
    checkWeather(JSON.parse(call.arguments));
  },
  async chatCutSaysLength() {
    const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 5,
      messages: [{ role: 'user', content: 'hi' }] }, tokens(40));
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(words(r.choices[0].message.content), 5);
    // The parse helper refuses a cut answer as the SDK does with a real one.
    await assert.rejects(openai.chat.completions.parse({ model: 'gpt-4o-mini', max_tokens: 5,
      messages: [{ role: 'user', content: 'weather' }],
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: weather } } }, tokens(40)),
    (e) => e instanceof LengthFinishReasonError);
  },
  async azureOpenAI() {
    const azure = new AzureOpenAI({ endpoint: origin, apiKey: 'azure-key', apiVersion: '2024-10-21', maxRetries: 0 });
    const chat = await azure.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 4,
      messages: [{ role: 'user', content: 'hi' }] }, tokens(4));
    assert.equal(words(chat.choices[0].message.content), 4);
    const deployed = new AzureOpenAI({ endpoint: origin, apiKey: 'azure-key', apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini', maxRetries: 0 });
    const viaDeployment = await deployed.chat.completions.create({ model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }] }, tokens(3));
    assert.equal(viaDeployment.model, 'gpt-4o-mini');
    const e = await azure.embeddings.create({ model: 'text-embedding-3-small', input: 'a b c' });
    assert.equal(e.data[0].embedding.length, 1536);
    const r = await azure.responses.create({ model: 'gpt-4o-mini', input: 'hi' }, tokens(6));
    assert.equal(words(r.output_text), 6);
    const unversioned = new OpenAI({ baseURL: `${origin}/openai`, apiKey: 'azure-key', maxRetries: 0 });
    await assert.rejects(unversioned.chat.completions.create({ model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }] }, { path: '/deployments/gpt-4o-mini/chat/completions' }),
    (err) => err instanceof OpenAI.NotFoundError);
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
