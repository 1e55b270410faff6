// A TypeScript program driving Troupe actors through a node's gateway: it
// spawns a named Counter through the control service, increments it over
// Connect, gRPC and gRPC-Web, reads it back, and checks the errors a caller
// in another language sees. It exits 0 only if every check passed.
//
// Usage: tsx src/client.ts http://127.0.0.1:PORT  (TROUPE_TOKEN: the bearer token, if the node wants one)
import { create } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";

import { ControlService } from "./gen/actor/v1/control_pb";
import { Counter, CounterInitSchema } from "./gen/counter/v1/counter_pb";

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error("usage: tsx src/client.ts http://127.0.0.1:PORT");
  process.exit(2);
}
const token = process.env.TROUPE_TOKEN ?? "";

// The token travels as a header, as it does for Go callers.
const bearer: Interceptor = (next) => (req) => {
  if (token) req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};
const interceptors = [bearer];

const transports: Record<string, Transport> = {
  connect: createConnectTransport({ baseUrl, httpVersion: "2", interceptors }),
  grpc: createGrpcTransport({ baseUrl, interceptors }),
  "grpc-web": createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
};
const control = createClient(ControlService, transports.connect);

let failed = 0;
function check(what: string, ok: boolean, detail: unknown = ""): void {
  if (ok) {
    console.log(`ok   ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}: ${detail instanceof Error ? detail.message : JSON.stringify(detail, (_, v) => (typeof v === "bigint" ? v.toString() : v))}`);
  }
}

// codeName names a code for the report; undefined means the call succeeded.
function codeName(code: Code | undefined): string {
  return code === undefined ? "no error" : Code[code];
}

// codeOf runs fn and returns the Connect code it fails with, or undefined.
async function codeOf(fn: () => Promise<unknown>): Promise<Code | undefined> {
  try {
    await fn();
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

async function main(): Promise<void> {
  const name = `ts-counter-${process.pid}`;
  const init = anyPack(CounterInitSchema, create(CounterInitSchema, { start: 40n }));

  // Spawn a named Counter; its init travels as a google.protobuf.Any.
  const spawned = await control.spawn({ class: "counter.v1.Counter", name, init });
  const ref = spawned.actor;
  check(`spawned ${ref?.class} "${ref?.name}" (id ${ref?.actorId})`,
    ref?.class === "counter.v1.Counter" && ref.name === name && ref.actorId !== "", ref);
  const byName = { "troupe-actor-name": name };

  // Increment it once in each protocol.
  let want = 40n;
  for (const [protocol, transport] of Object.entries(transports)) {
    const counter = createClient(Counter, transport);
    want += 1n;
    const res = await counter.increment({ by: 1n }, { headers: byName });
    check(`increment over ${protocol} -> ${res.value}`, res.value === want, res);
  }

  // Read it back, by id this time.
  const counter = createClient(Counter, transports.connect);
  const got = await counter.get({}, { headers: { "troupe-actor-id": ref?.actorId ?? "" } });
  check(`get by id -> ${got.value}`, got.value === want, got);

  // GetOrCreate and Lookup find the same actor.
  const again = await control.getOrCreate({ class: "counter.v1.Counter", name, init });
  check("getOrCreate returns the same actor", again.actor?.actorId === ref?.actorId, again);
  const found = await control.lookup({ name });
  check("lookup finds it", found.actor?.actorId === ref?.actorId, found);
  const list = await control.listActors({ filters: { name } });
  check(`listActors shows it ${list.actors[0]?.state}`,
    list.actors.length === 1 && list.actors[0].state === "ALIVE" && list.actors[0].class === "counter.v1.Counter", list);

  // Errors: a missing actor is not_found, in every protocol.
  for (const [protocol, transport] of Object.entries(transports)) {
    const c = createClient(Counter, transport);
    const code = await codeOf(() => c.get({}, { headers: { "troupe-actor-name": "no-such-counter" } }));
    check(`call to a missing actor over ${protocol} fails with not_found`, code === Code.NotFound, codeName(code));
  }
  const noHeader = await codeOf(() => counter.get({}));
  check("call without actor headers fails with invalid_argument", noHeader === Code.InvalidArgument, codeName(noHeader));
  if (token) {
    const anonymous = createClient(Counter, createConnectTransport({ baseUrl, httpVersion: "2" }));
    const code = await codeOf(() => anonymous.get({}, { headers: byName }));
    check("call without the token fails with unauthenticated", code === Code.Unauthenticated, codeName(code));
  }

  // Kill it for good: its name is free and calls by id fail.
  await control.kill({ actor: ref, noRestart: true });
  const afterKill = await codeOf(() => control.lookup({ name }));
  check("after kill, lookup fails with not_found", afterKill === Code.NotFound, codeName(afterKill));
}

main()
  .catch((err) => {
    failed++;
    console.log(`FAIL unexpected error: ${ConnectError.from(err).message}`);
  })
  .finally(() => {
    console.log(failed === 0 ? "all checks passed" : `${failed} check(s) failed`);
    process.exit(failed === 0 ? 0 : 1);
  });
