package actor_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/runtime/actor"
	testv1 "github.com/troupehq/troupe/runtime/internal/testpb/test/v1"
	"github.com/troupehq/troupe/runtime/internal/testpb/test/v1/testv1actor"
)

// behaviours are the Probe behaviours a rule selects by name in the Probe's
// init. They are package variables, so a node process (this binary run
// again) has them too. State that must outlive an instance (a restart) or
// cross processes lives in the rule's coordinator; state of one instance
// lives in probe.local.
var behaviours = map[string]*behaviour{}

// behave registers b under name; use it in a package-level var.
func behave(name string, b *behaviour) *behaviour {
	if behaviours[name] != nil {
		panic("behaviour " + name + " registered twice")
	}
	behaviours[name] = b
	return b
}

// local is what one Probe instance keeps for its behaviour.
type local struct {
	mu       sync.Mutex
	changed  chan struct{}
	arrived  int64
	now, max int64
	readers  int64
	writers  int64
	bad      int64
	ran      int64
	seen     []int64
	last     map[int64]int64
}

func (l *local) locked(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
	if l.changed != nil {
		close(l.changed)
		l.changed = nil
	}
}

// barrier waits, with ctx, until n calls of this instance have arrived.
func (l *local) barrier(ctx context.Context, n int64) error {
	l.locked(func() { l.arrived++ })
	for {
		l.mu.Lock()
		if l.arrived >= n {
			l.mu.Unlock()
			return nil
		}
		if l.changed == nil {
			l.changed = make(chan struct{})
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *local) enter() {
	l.locked(func() { l.now++; l.max = max(l.max, l.now) })
}

func (l *local) leave() { l.locked(func() { l.now-- }) }

// coordOf is the coordinator named in the Probe's init.
func coordOf(ctx context.Context, init *testv1.ProbeInit) (*testv1actor.ProbeHandle, error) {
	return testv1actor.ProbeFromRef(ctx, actor.SystemFrom(ctx), init.GetCoord())
}

// The coordinator: Do with key "op/name" acts on the named gate, counter or
// log. Calls that wait hold no lock and end with their ctx.
//
//	pass/NAME    count an arrival at gate NAME, wait until it opens
//	waiting/NAME answer how many calls wait at gate NAME now
//	open/NAME    open gate NAME
//	arrived/NAME wait until arg calls arrived at NAME; answer how many
//	add/NAME     add arg to counter NAME; answer the sum
//	rec/NAME/S   append S to log NAME
//	log/NAME     answer log NAME, its entries joined by ","
type coordState struct {
	local
	count   map[string]int64
	waiting map[string]int64
	open    map[string]bool
	logs    map[string][]string
}

var _ = behave("coord", &behaviour{do: func(ctx context.Context, p *probe, r *testv1.DoRequest) (*testv1.DoResponse, error) {
	c := p.coordState()
	op, name, _ := strings.Cut(r.GetKey(), "/")
	wait := func(cond func() bool) error {
		for {
			c.mu.Lock()
			if cond() {
				c.mu.Unlock()
				return nil
			}
			if c.changed == nil {
				c.changed = make(chan struct{})
			}
			ch := c.changed
			c.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	var out testv1.DoResponse
	switch op {
	case "pass":
		c.locked(func() { c.count[name]++; c.waiting[name]++ })
		defer c.locked(func() { c.waiting[name]-- })
		return &out, wait(func() bool { return c.open[name] })
	case "waiting":
		c.locked(func() { out.Value = c.waiting[name] })
	case "open":
		c.locked(func() { c.open[name] = true })
	case "arrived":
		err := wait(func() bool { return c.count[name] >= r.GetArg() })
		c.locked(func() { out.Value = c.count[name] })
		return &out, err
	case "add":
		c.locked(func() { c.count[name] += r.GetArg(); out.Value = c.count[name] })
	case "rec":
		name, s, _ := strings.Cut(name, "/")
		c.locked(func() { c.logs[name] = append(c.logs[name], s) })
	case "log":
		c.locked(func() { out.Text = strings.Join(c.logs[name], ",") })
	default:
		return nil, fmt.Errorf("coordinator: no op %q", op)
	}
	return &out, nil
}})

// coordState is the coordinator's state, made on first use; the
// coordinator runs calls at once, so its state has its own lock.
func (p *probe) coordState() *coordState {
	p.coordMu.Lock()
	defer p.coordMu.Unlock()
	if p.coordSt == nil {
		p.coordSt = &coordState{count: map[string]int64{}, waiting: map[string]int64{}, open: map[string]bool{}, logs: map[string][]string{}}
	}
	return p.coordSt
}

// coordDo runs one coordinator op from inside an actor.
func coordDo(ctx context.Context, init *testv1.ProbeInit, key string, arg int64) (*testv1.DoResponse, error) {
	c, err := coordOf(ctx, init)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, &testv1.DoRequest{Key: key, Arg: arg}).Get(ctx)
}

// pass waits at the coordinator's gate name until the rule opens it.
func pass(ctx context.Context, p *probe, name string) error {
	_, err := coordDo(ctx, p.init, "pass/"+name, 0)
	return err
}

// count adds d to the coordinator's counter name and answers the sum.
func count(ctx context.Context, init *testv1.ProbeInit, name string, d int64) (int64, error) {
	r, err := coordDo(ctx, init, "add/"+name, d)
	return r.GetValue(), err
}

// record appends s to the coordinator's log name.
func record(ctx context.Context, p *probe, name, s string) error {
	_, err := coordDo(ctx, p.init, "rec/"+name+"/"+s, 0)
	return err
}

// The rule's side of the coordinator.

func (m *mode) coordCall(t testing.TB, key string, arg int64) *testv1.DoResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := m.coord(t).Do(ctx, &testv1.DoRequest{Key: key, Arg: arg}).Get(ctx)
	if err != nil {
		t.Fatalf("coordinator %s: %v", key, err)
	}
	return r
}

// open opens gate name.
func (m *mode) open(t testing.TB, name string) { m.coordCall(t, "open/"+name, 0) }

// arrived waits until n calls arrived at gate name.
func (m *mode) arrived(t testing.TB, name string, n int64) { m.coordCall(t, "arrived/"+name, n) }

// counter reads counter name.
func (m *mode) counter(t testing.TB, name string) int64 {
	return m.coordCall(t, "add/"+name, 0).GetValue()
}

// log reads log name.
func (m *mode) log(t testing.TB, name string) string { return m.coordCall(t, "log/"+name, 0).GetText() }
