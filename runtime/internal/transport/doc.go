// Package transport carries actor calls between nodes.
//
// A caller holds one [Conn] per node it talks to. A Conn keeps one
// long-lived Connect bidi stream, actor.v1.NodeService/Calls, open over
// HTTP/2 and multiplexes every call on it: each call gets an id on the
// stream, results come back tagged with that id in whatever order the calls
// finish, and a caller that stops waiting sends the id as a cancel, which
// the node hands to the [Canceler] its [Dispatcher] returned for the call
// and then answers with canceled. The caller's call ends with that answer,
// not before: a caller told its call was cancelled knows the node has
// cancelled it (a queued call has left its actor's queue and never runs).
// Calls cost no context of their own on either side.
//
// A unary Connect call per actor call would cost a new HTTP/2 stream, its
// headers and a flush each time; a stream that sends one message per call
// still pays a frame, a flush and several goroutine hand-offs per call.
// So both ends batch: each side has exactly one writer goroutine. Callers
// (and, on the node, finished calls) append to a queue and wake the writer;
// the writer yields once to the scheduler, so that goroutines already
// runnable can queue theirs, then takes everything queued, up to a byte
// budget, sends it as one stream message and looks again. It never waits on
// a timer: a lone call leaves at once, and under load the batches grow by
// themselves while the previous write is in flight. The one exception: a
// call made on a caller's stream with nothing else in flight or queued is
// sent by its caller, one hand-off less for calls made one at a time.
// Sends are serialized, so calls submitted on one Conn from one goroutine
// reach the node's [Dispatcher] in submission order. Within a message, an
// actor id or procedure that repeats the previous call's is left out and
// filled back in by the node.
//
// Flow control is by calls, not bytes: a node grants each stream a window
// ([WithCallWindow]) in the headers of its first, empty, message, and a
// Conn keeps no more calls in flight on the node than that, sent and not
// yet answered (a cancelled call included, until its cancel is answered);
// the rest wait in the Conn's queue, in order, each until there is room or
// its ctx ends (one cancelled while it waits is never sent). Until the
// grant arrives a Conn assumes 64. The node applies
// a message's cancels before its calls, so the places they free are free
// for the calls that came with them, and refuses at once, with
// resource_exhausted, a call beyond the stream's window or beyond the
// node's limit over all streams ([WithMaxCallsInFlight]).
//
// The transport does not know message types. A [CallEnvelope] carries the
// serialized request and the full method name ("/pkg.Svc/Method"); a
// [ResultEnvelope] carries the serialized response or a Connect error code,
// message, details and metadata ([ErrorEnvelope], [EnvelopeToError]). Decoding,
// routing to actors and retries belong to the runtime above; the transport
// only reports that a stream failed, as a *connect.Error with code
// unavailable for every call that was in flight on it.
//
// [CallEnvelope]: github.com/troupehq/troupe/gen/actor/v1.CallEnvelope
// [ResultEnvelope]: github.com/troupehq/troupe/gen/actor/v1.ResultEnvelope
package transport
