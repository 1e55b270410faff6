// Command cache runs a least-recently-used cache as an actor. The cache holds
// three entries; putting a fourth evicts the one used least recently, and a
// later Get of the evicted key misses.
package main

import (
	"container/list"
	"context"
	"fmt"
	"log"

	cachev1 "github.com/troupehq/troupe/examples/cache/gen/cache/v1"
	"github.com/troupehq/troupe/examples/cache/gen/cache/v1/cachev1actor"
	"github.com/troupehq/troupe/runtime/actor"
)

// lru implements cachev1actor.CacheActor. Its state is plain Go: the runtime
// runs one mutating method at a time, so the list and the map need no lock.
type lru struct {
	max     int
	order   *list.List               // of *entry, the most recently used at the front
	entries map[string]*list.Element // key -> element of order
}

type entry struct{ key, value string }

func newCache(_ context.Context, init *cachev1.CacheInit) (cachev1actor.CacheActor, error) {
	if init.GetMaxSize() < 1 {
		// A constructor error makes the actor DEAD with this error as its
		// cause: every call to it fails with the error.
		return nil, fmt.Errorf("cache: max_size must be at least 1, got %d", init.GetMaxSize())
	}
	return &lru{max: int(init.GetMaxSize()), order: list.New(), entries: map[string]*list.Element{}}, nil
}

func (c *lru) Put(_ context.Context, req *cachev1.PutRequest) (*cachev1.PutResponse, error) {
	if el, ok := c.entries[req.GetKey()]; ok {
		el.Value.(*entry).value = req.GetValue()
		c.order.MoveToFront(el)
		return &cachev1.PutResponse{}, nil
	}
	resp := &cachev1.PutResponse{}
	if c.order.Len() == c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		key := oldest.Value.(*entry).key
		delete(c.entries, key)
		resp.Evicted = key
	}
	c.entries[req.GetKey()] = c.order.PushFront(&entry{key: req.GetKey(), value: req.GetValue()})
	return resp, nil
}

// Get is not readonly in the proto: a hit moves the entry to the front of
// the recency list, which is a write. Readonly methods may run concurrently
// with each other, so two readonly Gets would race on the list.
func (c *lru) Get(_ context.Context, req *cachev1.GetRequest) (*cachev1.GetResponse, error) {
	el, ok := c.entries[req.GetKey()]
	if !ok {
		return &cachev1.GetResponse{}, nil
	}
	c.order.MoveToFront(el)
	return &cachev1.GetResponse{Found: true, Value: el.Value.(*entry).value}, nil
}

// Keys only reads, so the proto marks it readonly.
func (c *lru) Keys(context.Context, *cachev1.KeysRequest) (*cachev1.KeysResponse, error) {
	resp := &cachev1.KeysResponse{}
	for el := c.order.Front(); el != nil; el = el.Next() {
		resp.Keys = append(resp.Keys, el.Value.(*entry).key)
	}
	return resp, nil
}

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	sys, err := actor.Start(ctx, actor.WithClasses(cachev1actor.RegisterCache(newCache)))
	if err != nil {
		return err
	}
	defer sys.Shutdown(ctx)

	cache, err := cachev1actor.CacheOptions().Spawn(ctx, sys, &cachev1.CacheInit{MaxSize: 3})
	if err != nil {
		return err
	}

	// Each step is one call, made and waited for in turn.
	steps := []struct{ op, key, value string }{
		// Fill the cache: c ends up the most recently used, a the least.
		{op: "put", key: "a", value: "apple"},
		{op: "put", key: "b", value: "banana"},
		{op: "put", key: "c", value: "cherry"},
		{op: "keys"},
		// Reading a makes it the most recently used: b is now the oldest.
		{op: "get", key: "a"},
		{op: "keys"},
		// A fourth key does not fit: b goes.
		{op: "put", key: "d", value: "date"},
		{op: "keys"},
		{op: "get", key: "b"},
		{op: "get", key: "a"},
	}
	for _, s := range steps {
		switch s.op {
		case "put":
			resp, err := cache.Put(ctx, &cachev1.PutRequest{Key: s.key, Value: s.value}).Get(ctx)
			if err != nil {
				return err
			}
			if resp.GetEvicted() != "" {
				fmt.Printf("put %s=%s: evicted %s, the least recently used\n", s.key, s.value, resp.GetEvicted())
			} else {
				fmt.Printf("put %s=%s\n", s.key, s.value)
			}
		case "get":
			resp, err := cache.Get(ctx, &cachev1.GetRequest{Key: s.key}).Get(ctx)
			if err != nil {
				return err
			}
			if resp.GetFound() {
				fmt.Printf("get %s: hit, %s\n", s.key, resp.GetValue())
			} else {
				fmt.Printf("get %s: miss\n", s.key)
			}
		case "keys":
			resp, err := cache.Keys(ctx, &cachev1.KeysRequest{}).Get(ctx)
			if err != nil {
				return err
			}
			fmt.Printf("keys, most recent first: %v\n", resp.GetKeys())
		}
	}
	return nil
}
