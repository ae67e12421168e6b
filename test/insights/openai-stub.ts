/**
 * A local OpenAI-compatible chat-completions server for the LLM provider tests: a real HTTP
 * server on a loopback port that records every request (headers and body) and answers with
 * whatever the test sets — a content string, a status, a delay, or garbage.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: {
    model: string;
    messages: { role: string; content: string }[];
    temperature?: number;
    response_format?: { type: string };
    max_tokens?: number;
  };
}

export type StubAnswer = { content: string; delayMs?: number } | { status: number; body: string; delayMs?: number } | { raw: string; delayMs?: number };

export interface OpenAiStub {
  baseUrl: string;
  requests: RecordedRequest[];
  answer(a: StubAnswer | ((req: RecordedRequest) => StubAnswer)): void;
  close(): Promise<void>;
}

export async function startOpenAiStub(): Promise<OpenAiStub> {
  const requests: RecordedRequest[] = [];
  let next: StubAnswer | ((req: RecordedRequest) => StubAnswer) = { content: '{}' };
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: RecordedRequest['json'];
      try {
        json = JSON.parse(body);
      } catch {
        json = { model: '', messages: [] };
      }
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
      requests.push(recorded);
      const a = typeof next === 'function' ? next(recorded) : next;
      const send = () => {
        if (res.destroyed) return;
        if ('content' in a) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: `chatcmpl-${requests.length}`,
              object: 'chat.completion',
              model: json.model,
              choices: [{ index: 0, message: { role: 'assistant', content: a.content }, finish_reason: 'stop' }],
            }),
          );
        } else if ('status' in a) {
          res.writeHead(a.status, { 'content-type': 'application/json' });
          res.end(a.body);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(a.raw);
        }
      };
      if (a.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, a.delayMs);
        timers.add(t);
      } else {
        send();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    answer(a) {
      next = a;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
