package transport

import (
	"context"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// Pending is a call on its way: Done is closed when its result is ready.
type Pending struct {
	s    *session
	id   uint64
	env  *actorv1.CallEnvelope // while queued; nil once sent or abandoned
	sent bool                  // the call went out: it holds a place in the window
	// cause, set when a sent call is cancelled, is the error it ends
	// with once the node has answered the cancel.
	cause error
	stop  func() bool // stops the watch on the caller's ctx
	done  chan struct{}
	then  Receiver // instead of done, for CallFunc
	res   *actorv1.ResultEnvelope
	err   error
}

// Cancel ends the call with canceled, as its ctx ending would: at once if
// it has not been sent, else once the node has cancelled it. It does
// nothing once the call has its result.
func (p *Pending) Cancel() {
	if p.s != nil {
		p.s.abandon(p, context.Canceled)
	}
}

// Done is closed when the call's result is ready.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Result returns the node's result once Done is closed; an error the
// method returned travels inside it (see [EnvelopeToError]). err is set
// instead when no result came: a *connect.Error with code unavailable when
// the stream failed or the Conn was closed, canceled or deadline_exceeded
// when the caller's ctx ended first, resource_exhausted when the call did
// not fit in a stream message.
func (p *Pending) Result() (*actorv1.ResultEnvelope, error) {
	<-p.done
	return p.res, p.err
}

func (p *Pending) finish(res *actorv1.ResultEnvelope, err error) {
	p.res, p.err = res, err
	if p.then != nil {
		p.then.Receive(res, err)
		return
	}
	close(p.done)
}

// finishLater is finish for a call that failed before it was queued: a
// CallFunc caller may still hold the locks its f takes, so f runs on a
// goroutine of its own.
func (p *Pending) finishLater(res *actorv1.ResultEnvelope, err error) {
	if p.then != nil {
		go p.finish(res, err)
		return
	}
	p.finish(res, err)
}
