import * as http from 'node:http';

export interface AdminReply {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

/** One call to an agent's admin API on its unix socket (what `ballast volume attach` sends). */
export function adminCall(
  socketPath: string,
  method: string,
  urlPath: string,
  body?: unknown,
  rawBody?: string,
): Promise<AdminReply> {
  return new Promise((resolve, reject) => {
    const payload = rawBody ?? (body === undefined ? '' : JSON.stringify(body));
    const req = http.request(
      {
        socketPath,
        path: urlPath,
        method,
        headers: { 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            // left empty: the test looks at the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
