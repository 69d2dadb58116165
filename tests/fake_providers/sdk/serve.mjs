// Starts a fake-provider server (squall's fake server binary, or `squall serve`) as a child process and
// waits for the URL lines it prints ("NAME URL"), so every SDK test reads them the same way and fails the
// same way: with the server's exit code, or after `timeoutMs` when the named providers never appear.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// Resolves to { server, urls } once every provider in `names` has printed its URL. `args` are the
// binary's arguments (the scenario file, or ['serve', file]).
export async function startServer(binary, args, names, timeoutMs = 20000) {
  const server = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const urls = {};
  try {
    await new Promise((resolve, reject) => {
      const lines = createInterface({ input: server.stdout });
      lines.on('line', (line) => {
        const [name, url] = line.split(' ');
        if (url && url.startsWith('http://')) urls[name] = url;
        if (names.every((n) => urls[n])) resolve();
      });
      server.on('exit', (code) => reject(new Error(`${binary} exited with ${code} before printing its URLs`)));
      setTimeout(() => reject(new Error(`${binary} did not print the URLs of ${names.join(', ')} in ${timeoutMs} ms`)),
                 timeoutMs).unref();
    });
  } catch (e) {
    server.kill('SIGTERM');
    throw e;
  }
  return { server, urls };
}
