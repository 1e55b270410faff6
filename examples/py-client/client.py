"""A Python program driving Troupe actors through a node's gateway over gRPC.

It spawns a named Counter through actor.v1.ControlService, calls it by name
and by id, gets or creates a second one in another namespace, and checks
the gRPC status codes a caller sees when a call goes wrong. The stubs in
gen/ are generated from the same protos as the Go code (see buf.gen.yaml).
Each check prints one line, "ok   ..." or "FAIL ..."; the indented lines
under some show what came back. It exits 0 only if every check passed.

Usage: python3 client.py 127.0.0.1:PORT
(TROUPE_TOKEN: the node's bearer token, if it wants one)
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

import grpc  # noqa: E402
from google.protobuf import any_pb2  # noqa: E402

from actor.v1 import control_pb2, control_pb2_grpc  # noqa: E402
from counter.v1 import counter_pb2, counter_pb2_grpc  # noqa: E402

# Every call gets a deadline, so that a stuck node fails the run instead of
# hanging it.
TIMEOUT = 10.0
CLASS = "counter.v1.Counter"
NAMESPACE = "py-client"


class Bearer(grpc.UnaryUnaryClientInterceptor):
    """Adds "authorization: Bearer <token>" to every call, as Go callers do."""

    def __init__(self, token):
        self._metadata = (("authorization", "Bearer " + token),)

    def intercept_unary_unary(self, continuation, details, request):
        metadata = tuple(details.metadata or ()) + self._metadata
        return continuation(details._replace(metadata=metadata), request)


def by_name(name, namespace=None):
    """Metadata naming an actor by its name (and namespace)."""
    md = [("troupe-actor-name", name)]
    if namespace:
        md.append(("troupe-namespace", namespace))
    return md


def by_id(actor_id):
    """Metadata naming an actor by its id."""
    return [("troupe-actor-id", actor_id)]


def pack(message):
    """Packs an init message in a google.protobuf.Any, as Spawn wants it."""
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


class Checks:
    """Counts and prints the checks."""

    def __init__(self):
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            print("ok   " + what)
        else:
            self.failed += 1
            print("FAIL %s: %s" % (what, detail))

    def show(self, detail):
        print("       " + detail)

    def code(self, what, want, call):
        """Runs call, which must fail with the gRPC status code want."""
        try:
            got = call()
        except grpc.RpcError as err:
            self.check("%s fails with %s" % (what, want.name), err.code() == want,
                       "got %s: %s" % (err.code().name, err.details()))
            self.show("%s: %s" % (err.code().name, err.details()))
            return
        self.check("%s fails with %s" % (what, want.name), False, "it succeeded: %s" % got)


def run(target, token, checks):
    with grpc.insecure_channel(target) as channel:
        if token:
            channel = grpc.intercept_channel(channel, Bearer(token))
        calls(channel, target, token, checks)


def calls(channel, target, token, checks):
    """Makes the calls and checks their answers."""
    control = control_pb2_grpc.ControlServiceStub(channel)
    counter = counter_pb2_grpc.CounterStub(channel)
    name = "py-counter-%d" % os.getpid()

    # Spawn a named Counter; its init travels as a google.protobuf.Any.
    spawned = control.Spawn(control_pb2.SpawnRequest(
        **{"class": CLASS}, name=name, init=pack(counter_pb2.CounterInit(start=40))), timeout=TIMEOUT)
    ref = spawned.actor
    checks.check("spawn a named %s, start 40" % CLASS,
                 getattr(ref, "class") == CLASS and ref.name == name and ref.actor_id != "", spawned)
    checks.show("name %s, namespace %s, actor_id %s" % (ref.name, ref.namespace, ref.actor_id))

    # Call it by name. The answer's headers name the actor that served it.
    want = 40
    for by in (1, 2):
        want += by
        res, call = counter.Increment.with_call(
            counter_pb2.IncrementRequest(by=by), metadata=by_name(name), timeout=TIMEOUT)
        served = dict(call.initial_metadata()).get("troupe-actor-id")
        checks.check("increment by name, by %d -> %d" % (by, res.value),
                     res.value == want and served == ref.actor_id,
                     "value %d, served by %r" % (res.value, served))

    # And by id.
    got = counter.Get(counter_pb2.GetRequest(), metadata=by_id(ref.actor_id), timeout=TIMEOUT)
    checks.check("get by id -> %d" % got.value, got.value == want, got)

    # GetOrCreate and Lookup find the same actor.
    again = control.GetOrCreate(control_pb2.GetOrCreateRequest(
        **{"class": CLASS}, name=name, init=pack(counter_pb2.CounterInit(start=0))), timeout=TIMEOUT)
    checks.check("getOrCreate of the same name returns the same actor",
                 again.actor.actor_id == ref.actor_id, again)
    found = control.Lookup(control_pb2.LookupRequest(name=name), timeout=TIMEOUT)
    checks.check("lookup by name finds it", found.actor.actor_id == ref.actor_id, found)
    listed = control.ListActors(control_pb2.ControlServiceListActorsRequest(
        filters={"name": name}), timeout=TIMEOUT)
    checks.check("listActors shows it %s" % (listed.actors[0].state if listed.actors else "nowhere"),
                 len(listed.actors) == 1 and listed.actors[0].state == "ALIVE", listed)

    # GetOrCreate spawns what is not there: a second counter, in a namespace
    # of its own, which a call names with troupe-namespace.
    other = control.GetOrCreate(control_pb2.GetOrCreateRequest(
        **{"class": CLASS}, name=name, namespace=NAMESPACE,
        init=pack(counter_pb2.CounterInit(start=7))), timeout=TIMEOUT)
    checks.check("getOrCreate in namespace %s spawns another actor" % NAMESPACE,
                 other.actor.actor_id not in ("", ref.actor_id) and other.actor.namespace == NAMESPACE, other)
    got = counter.Get(counter_pb2.GetRequest(), metadata=by_name(name, NAMESPACE), timeout=TIMEOUT)
    checks.check("get by name in namespace %s -> %d" % (NAMESPACE, got.value), got.value == 7, got)

    # Errors carry gRPC status codes.
    checks.code("a call to a missing actor", grpc.StatusCode.NOT_FOUND, lambda: counter.Get(
        counter_pb2.GetRequest(), metadata=by_name("no-such-counter"), timeout=TIMEOUT))
    checks.code("a call that names no actor", grpc.StatusCode.INVALID_ARGUMENT, lambda: counter.Get(
        counter_pb2.GetRequest(), timeout=TIMEOUT))
    checks.code("a spawn whose init has the wrong type", grpc.StatusCode.INVALID_ARGUMENT, lambda: control.Spawn(
        control_pb2.SpawnRequest(**{"class": CLASS}, init=pack(counter_pb2.GetRequest())), timeout=TIMEOUT))
    checks.code("a spawn of a class the node does not have", grpc.StatusCode.NOT_FOUND, lambda: control.Spawn(
        control_pb2.SpawnRequest(**{"class": "counter.v1.Nope"}), timeout=TIMEOUT))
    checks.code("a second spawn of the same name", grpc.StatusCode.ALREADY_EXISTS, lambda: control.Spawn(
        control_pb2.SpawnRequest(**{"class": CLASS}, name=name), timeout=TIMEOUT))
    if token:
        with grpc.insecure_channel(target) as bare:
            anonymous = counter_pb2_grpc.CounterStub(bare)
            checks.code("a call without the token", grpc.StatusCode.UNAUTHENTICATED, lambda: anonymous.Get(
                counter_pb2.GetRequest(), metadata=by_name(name), timeout=TIMEOUT))

    # Kill it for good: its name is free, and a call by its id says it died.
    control.Kill(control_pb2.KillRequest(actor=ref, no_restart=True), timeout=TIMEOUT)
    checks.code("after kill, a lookup of its name", grpc.StatusCode.NOT_FOUND, lambda: control.Lookup(
        control_pb2.LookupRequest(name=name), timeout=TIMEOUT))
    checks.code("after kill, a call by its id", grpc.StatusCode.ABORTED, lambda: counter.Get(
        counter_pb2.GetRequest(), metadata=by_id(ref.actor_id), timeout=TIMEOUT))
    control.Kill(control_pb2.KillRequest(actor=other.actor, no_restart=True), timeout=TIMEOUT)


def main(argv):
    if len(argv) != 2:
        print("usage: python3 client.py 127.0.0.1:PORT", file=sys.stderr)
        return 2
    checks = Checks()
    try:
        run(argv[1], os.environ.get("TROUPE_TOKEN", ""), checks)
    except grpc.RpcError as err:
        checks.check("unexpected error", False, "%s: %s" % (err.code().name, err.details()))
    print("all checks passed" if checks.failed == 0 else "%d check(s) failed" % checks.failed)
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
