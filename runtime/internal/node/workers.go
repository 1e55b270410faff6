package node

import (
	"runtime"
	"sync"
)

// workerPool keeps the goroutines that ran actors' calls parked, for the
// next actor that has calls to run: a call to an idle actor then wakes a
// parked goroutine, whose stack has already grown, instead of starting
// one. It keeps at most max parked; a goroutine beyond that ends. Parked
// goroutines belong to no actor, so an idle actor still holds none.
type workerPool struct {
	mu     sync.Mutex
	idle   []*worker // parked, the most recent last
	max    int
	closed bool
}

// worker is a parked goroutine: it runs the job sent on next, and ends
// when next is closed.
type worker struct {
	next chan job
}

// job is the first call an actor's worker runs.
type job struct {
	a  *Actor
	at *attempt
}

// MaxParkedWorkers is how many goroutines a node keeps parked for the
// next actor with calls to run: a few per processor, enough for the
// actors that run at once.
func MaxParkedWorkers() int { return max(8, 4*runtime.GOMAXPROCS(0)) }

// run runs a's calls, starting with at, on a parked goroutine or a new one.
func (p *workerPool) run(a *Actor, at *attempt) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.next <- job{a, at} // buffered, and a parked worker takes one job
		return
	}
	p.mu.Unlock()
	go p.work(job{a, at})
}

// work runs jobs, parking between them, until the pool is full or closed.
func (p *workerPool) work(j job) {
	var w *worker
	for {
		j.a.work(j.at)
		j = job{}
		p.mu.Lock()
		if p.closed || len(p.idle) >= p.max {
			p.mu.Unlock()
			return
		}
		if w == nil {
			w = &worker{next: make(chan job, 1)}
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		var ok bool
		if j, ok = <-w.next; !ok {
			return
		}
	}
}

// close ends the parked goroutines; those running calls end when they are
// done.
func (p *workerPool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, w := range idle {
		close(w.next)
	}
}
