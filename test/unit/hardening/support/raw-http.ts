/** Raw TCP requests to a loopback server, for request lines and headers that fetch cannot send. */
import net from 'node:net';

export interface RawAnswer {
  /** The status of the first response, or undefined when the server closed without one. */
  status?: number;
  head: string;
  body: string;
}

/** Writes `text`, half-closes, and resolves with what came back once the server closed. */
export function rawRequest(port: number, text: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(text));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return; // the answer so far is what counts
      reject(error);
    });
    socket.on('close', () => {
      const all = Buffer.concat(chunks).toString('latin1');
      const split = all.indexOf('\r\n\r\n');
      const head = split >= 0 ? all.slice(0, split) : all;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : undefined, head, body: split >= 0 ? all.slice(split + 4) : '' });
    });
  });
}
