// A small question-answering service built the way many teams build one: Node's http module in front of
// the official OpenAI client, with the client's own retries and nothing else. squall runs it as a system
// under test, points OPENAI_BASE_URL at its fake provider and counts the attempts that arrive there; this
// service logs what it sent, so the two counts can be compared.
//
// It never forwards squall's x-squall-* headers: squall has to attribute its attempts by the
// [squall:<digits>] marker at the start of the prompt.
import http from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import OpenAI from 'openai';

// A request body larger than this is refused with 413 before it is parsed.
const body_bytes_max = 1024 * 1024;

function log(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function fail_config(message) {
  process.stderr.write(`node_service: ${message}\n`);
  process.exit(2);
}

// Reads an environment variable that must be a whole number in [min, max]; undefined when unset or empty.
function env_integer(name, min, max) {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    fail_config(`${name}=${JSON.stringify(text)}: expected a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

const port = env_integer('PORT', 0, 65535);
if (port === undefined) fail_config('PORT is required (0 picks a free port)');
// Unset keeps the SDK's own defaults (2 retries, a 10 minute timeout), which is what most services run with.
const max_retries = env_integer('OPENAI_MAX_RETRIES', 0, 100);
const timeout_ms = env_integer('OPENAI_TIMEOUT_MS', 1, 3_600_000);
const default_model = process.env.MODEL || 'gpt-4o-mini';
// Loopback unless told otherwise: a test service has no business on other interfaces.
const host = process.env.HOST || '127.0.0.1';

// The user request being served, for the fetch wrapper: the SDK calls fetch once per attempt, with no way
// to pass our own context through, so it travels in async-local storage.
const current_request = new AsyncLocalStorage();

// Wraps the global fetch so every attempt the SDK puts on the wire is counted and logged, retries included.
async function counting_fetch(url, init) {
  const request = current_request.getStore();
  const attempt = request ? ++request.attempts : null;
  const t_ms = Date.now();
  const entry = { event: 'upstream_attempt', marker: request ? request.marker : null, attempt, t_ms };
  try {
    const response = await globalThis.fetch(url, init);
    log({ ...entry, status: response.status, duration_ms: Date.now() - t_ms });
    return response;
  } catch (err) {
    // A connection error or the SDK's timeout aborting the attempt: nothing came back.
    log({ ...entry, status: null, duration_ms: Date.now() - t_ms, error: String(err.cause ?? err) });
    throw err;
  }
}

const client = new OpenAI({
  apiKey: process.env.OPENAI_API_KEY || 'squall-test',
  fetch: counting_fetch,
  ...(max_retries !== undefined ? { maxRetries: max_retries } : {}),
  ...(timeout_ms !== undefined ? { timeout: timeout_ms } : {}),
});

function marker_of(prompt) {
  const match = /\[squall:(\d+)\]/.exec(prompt);
  return match ? match[1] : null;
}

function send_json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// Collects the body up to body_bytes_max; null when it is larger.
function read_body(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > body_bytes_max) {
        resolve(null);
        req.resume();  // drain the rest so the 413 can be read by the client
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// Returns the question's fields, or a string saying what is wrong with the body.
function parse_ask(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON object';
  if (typeof body.prompt !== 'string') return '"prompt" must be a string';
  if (body.model !== undefined && typeof body.model !== 'string') return '"model" must be a string';
  if (body.max_tokens !== undefined && !(Number.isInteger(body.max_tokens) && body.max_tokens > 0)) {
    return '"max_tokens" must be a positive whole number';
  }
  return { prompt: body.prompt, model: body.model || default_model, max_tokens: body.max_tokens };
}

async function handle_ask(req, res) {
  const text = await read_body(req);
  if (text === null) {
    send_json(res, 413, { error: `the body is larger than ${body_bytes_max} bytes` });
    log({ event: 'request_done', marker: null, attempts: 0, status: 413 });
    return;
  }
  const ask = parse_ask(text);
  if (typeof ask === 'string') {
    send_json(res, 400, { error: ask });
    log({ event: 'request_done', marker: null, attempts: 0, status: 400 });
    return;
  }
  const request = { marker: marker_of(ask.prompt), attempts: 0 };
  const t_ms = Date.now();
  let status;
  try {
    const completion = await current_request.run(request, () =>
      client.chat.completions.create({
        model: ask.model,
        messages: [{ role: 'user', content: ask.prompt }],
        ...(ask.max_tokens !== undefined ? { max_tokens: ask.max_tokens } : {}),
      }));
    status = 200;
    send_json(res, status, {
      answer: completion.choices?.[0]?.message?.content ?? '',
      model: completion.model ?? ask.model,
    });
  } catch (err) {
    status = 502;
    send_json(res, status, { error: String(err?.message ?? err), status: err?.status ?? null });
  }
  log({ event: 'request_done', marker: request.marker, attempts: request.attempts, status,
        duration_ms: Date.now() - t_ms });
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  if (path === '/health' && req.method === 'GET') {
    send_json(res, 200, { ok: true });
  } else if (path === '/ask' && req.method === 'POST') {
    handle_ask(req, res).catch((err) => {
      // Only a broken client connection gets here; the SDK's errors are answered in handle_ask.
      if (!res.headersSent) send_json(res, 500, { error: String(err?.message ?? err) });
      else res.destroy();
    });
  } else if (path === '/health' || path === '/ask') {
    send_json(res, 405, { error: `${req.method} is not allowed on ${path}` });
  } else {
    send_json(res, 404, { error: `no route ${path}` });
  }
});

server.listen(port, host, () => {
  log({ event: 'listening', host, port: server.address().port, max_retries: client.maxRetries,
        timeout_ms: client.timeout, model: default_model, base_url: client.baseURL });
});

// SIGTERM: stop accepting, let the requests in flight finish, then exit 0.
function stop(signal) {
  log({ event: 'stopping', signal });
  server.close(() => { log({ event: 'stopped', t_ms: Date.now() }); process.exit(0); });
  server.closeIdleConnections();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
