/**
 * The test receiver: a node:http log server in its own process, controlled by its parent over IPC.
 * It records every request (headers, decoded body, how it was answered) and misbehaves on command:
 * see {@link FaultRule}. Started by {@link TestReceiver.start}; not meant to run by hand.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { FaultRule, ReceivedRequest, ReceiverCommand, ReceiverReply } from './receiver-protocol.js';
import { RESPONDERS } from './responders.js';

const requests: ReceivedRequest[] = [];
let rules: FaultRule[] = [];
let maxBodyBytes = Infinity;
let port = Number(process.env.RECEIVER_PORT ?? 0);
const sockets = new Set<Socket>();
const hanging = new Set<http.ServerResponse>();

/** PEM key and certificate: serve HTTPS instead of HTTP (see `TestReceiver.start`). */
const tls =
  process.env.RECEIVER_TLS_KEY && process.env.RECEIVER_TLS_CERT
    ? { key: process.env.RECEIVER_TLS_KEY, cert: process.env.RECEIVER_TLS_CERT }
    : undefined;

const handler: http.RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    const faultRule = nextRule();
    const rule = faultRule?.kind === 'accept' ? undefined : faultRule;
    const outcome: ReceivedRequest['outcome'] = rule?.kind ?? (raw.length > maxBodyBytes ? 'too-large' : 'accepted');
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      rawBytes: raw.length,
      outcome,
      status: rule?.kind === 'status' ? rule.status : outcome === 'too-large' ? 413 : 200,
      at: Date.now(),
    });
    if (rule === undefined) {
      if (outcome === 'too-large') return void res.writeHead(413).end('payload too large');
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }
    switch (rule.kind) {
      case 'status':
        res.writeHead(rule.status, rule.headers ?? {}).end(rule.body ?? '');
        return;
      case 'hang':
        hanging.add(res); // never answered; freed when the connection closes
        res.on('close', () => hanging.delete(res));
        return;
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'stall-body':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        res.writeHead(200, { 'content-type': 'application/json' }).write('{"ok":');
        return;
      case 'garbage':
        req.socket.end('\u0000\u0001 this is not HTTP \r\n\r\n');
        return;
      case 'respond': {
        const responder = RESPONDERS[rule.responder];
        if (responder === undefined) return void res.writeHead(500).end(`no responder ${rule.responder}`);
        const answer = responder(body, req.headers);
        (requests.at(-1) as ReceivedRequest).status = answer.status; // record what the responder answered
        res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
        return;
      }
    }
  });
};
const server = tls === undefined ? http.createServer(handler) : https.createServer(tls, handler);
server.on('connection', (socket: Socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});

/** When each rule with `forMs` stops applying: set at its first use. */
const ruleEnds = new WeakMap<FaultRule, number>();

/** The first rule with uses and time left, used up by one. */
function nextRule(): FaultRule | undefined {
  const now = Date.now();
  for (;;) {
    const rule = rules[0];
    if (rule === undefined) return undefined;
    if (rule.forMs !== undefined) {
      const end = ruleEnds.get(rule) ?? now + rule.forMs;
      ruleEnds.set(rule, end);
      if (now >= end) {
        rules.shift();
        continue;
      }
    }
    if (rule.times !== undefined && --rule.times <= 0) rules.shift();
    return rule;
  }
}

function listen(): Promise<number> {
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      port = (server.address() as AddressInfo).port;
      resolve(port);
    });
  });
}

function stop(): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}

async function handle(command: ReceiverCommand): Promise<ReceiverReply> {
  switch (command.cmd) {
    case 'requests':
      return { requests };
    case 'reset':
      requests.length = 0;
      rules = [];
      maxBodyBytes = Infinity;
      return {};
    case 'faults':
      rules = command.rules.map((rule) => ({ ...rule }));
      return {};
    case 'max-body':
      maxBodyBytes = command.bytes;
      return {};
    case 'stop':
      await stop();
      return {};
    case 'start':
      return { port: await listen() };
  }
}

process.on('message', (message: { id: number; command: ReceiverCommand }) => {
  void handle(message.command).then((reply) => process.send?.({ id: message.id, reply }));
});
process.on('disconnect', () => process.exit(0));

void listen().then((listening) => process.send?.({ id: 0, reply: { port: listening } }));
