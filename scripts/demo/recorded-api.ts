// Serves recorded OpenAI Admin API responses from samples/openai/ over HTTP
// on loopback, so the demo's ingest runs its real poller (auth header,
// pagination, envelopes) against bundled data. Unknown paths answer 404 the
// way the API does; the audit log feed is imported from its JSONL export
// instead, so it answers an empty page here.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const EMPTY_PAGE = JSON.stringify({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });

export async function serveRecordedOpenAi(root: string, adminKey: string): Promise<{ baseUrl: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push(url.pathname);
      const send = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body);
      };
      if (req.headers.authorization !== `Bearer ${adminKey}`) return send(401, '{"error":{"message":"Invalid admin key","type":"invalid_request_error"}}');
      const rest = url.pathname.replace(/^\/v1\//, '');
      if (rest === 'organization/audit_logs') return send(200, EMPTY_PAGE);
      const file = path.join(root, `${rest}.json`);
      if (!file.startsWith(root + path.sep)) return send(404, '{"error":{"message":"not found"}}');
      try {
        send(200, await readFile(file, 'utf8'));
      } catch {
        // The API lists an empty collection rather than 404 for a known project's sub-resources.
        send(/\/projects\/[^/]+\/(users|service_accounts|api_keys)$/.test(rest) ? 200 : 404, /\/projects\//.test(rest) ? EMPTY_PAGE : '{"error":{"message":"not found"}}');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
