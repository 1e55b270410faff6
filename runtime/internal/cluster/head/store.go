package head

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// StateFile is the name of the head's store in its state directory.
const StateFile = "head.db"

// NodeIDFile is the name of the file in the head's state directory that
// holds the id of the head's own node.
const NodeIDFile = "node_id"

// LoadOrCreateNodeID returns the head node's id stored in dir, storing
// newID() there at first start. A head restarted on the same directory is
// the same node: the head recognises that the actors it hosted died with
// the old process (they restart per max_restarts) instead of waiting for a
// node that will never heartbeat again.
func LoadOrCreateNodeID(dir string, newID func() string) (string, error) {
	path := filepath.Join(dir, NodeIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	id := newID()
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the head's node id: %w", err)
	}
	return id, nil
}

var (
	bucketNodes  = []byte("nodes")
	bucketActors = []byte("actors")
	bucketJobs   = []byte("jobs")
	// bucketDead holds the order in which actors died: the number of a
	// death (8 bytes, big-endian, so that keys sort by it) to the dead
	// actor's id. The oldest deaths are evicted first.
	bucketDead = []byte("dead_actors")
	// bucketMeta holds the cluster's id under keyClusterID.
	bucketMeta   = []byte("meta")
	keyClusterID = []byte("cluster_id")
)

// store keeps the head's tables in a bbolt file, one record per key, so a
// restarted head recovers its nodes, actors, names and jobs.
type store struct {
	db *bolt.DB
}

func openStore(dir string) (*store, error) {
	db, err := bolt.Open(filepath.Join(dir, StateFile), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open head state: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketNodes, bucketActors, bucketJobs, bucketDead, bucketMeta, bucketGroups, bucketDurable} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open head state: %w", err)
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

// clusterID returns the cluster's id, storing newID() at first open: the
// id lives and dies with the head's state, so nodes can tell a head that
// restarted from one that lost its state.
func (s *store) clusterID(newID func() string) (string, error) {
	var id string
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if v := b.Get(keyClusterID); len(v) > 0 {
			id = string(v)
			return nil
		}
		id = newID()
		return b.Put(keyClusterID, []byte(id))
	})
	return id, err
}

// write is one change's records to store.
type write struct {
	nodes  []*actorv1.NodeInfo
	actors []*actorv1.ActorRecord
	jobs   []*actorv1.JobInfo
	groups []*actorv1.PlacementGroupInfo
	// durable are the durable activations to store, or to delete (nil
	// activation), in the order they changed.
	durable []durableWrite
	// deaths are the deaths to number; evict are the dead actors to
	// delete, with their deaths, after the records above are stored.
	deaths []death
	evict  []death
}

type durableWrite struct {
	key string
	da  *actorv1.DurableActivation
}

// death is an entry of the dead bucket: the number of an actor's death
// among the head's, and the actor's id. Seq 0 is no entry (the actor died
// before the head numbered deaths); an empty id is an entry whose actor
// record is not to be deleted.
type death struct {
	seq uint64
	id  string
}

func deathKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// op is one key of the store to set (val) or delete (val nil).
type op struct {
	bucket, key, val []byte
}

// ops encodes w's records, in the order the store applies them: the
// records, then what it evicts. It runs under the head's lock, as the
// records may change once the lock is released.
func (w *write) ops() ([]op, error) {
	var out []op
	put := func(bucket []byte, key string, m proto.Message) error {
		v, err := proto.Marshal(m)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", bucket, key, err)
		}
		out = append(out, op{bucket: bucket, key: []byte(key), val: v})
		return nil
	}
	for _, n := range w.nodes {
		if err := put(bucketNodes, n.GetNodeId(), n); err != nil {
			return nil, err
		}
	}
	for _, a := range w.actors {
		if err := put(bucketActors, a.GetInfo().GetActorId(), a); err != nil {
			return nil, err
		}
	}
	for _, j := range w.jobs {
		if err := put(bucketJobs, j.GetJobId(), j); err != nil {
			return nil, err
		}
	}
	for _, g := range w.groups {
		if err := put(bucketGroups, g.GetPlacementGroupId(), g); err != nil {
			return nil, err
		}
	}
	for _, d := range w.durable {
		if d.da == nil {
			out = append(out, op{bucket: bucketDurable, key: []byte(d.key)})
		} else if err := put(bucketDurable, d.key, d.da); err != nil {
			return nil, err
		}
	}
	for _, d := range w.deaths {
		out = append(out, op{bucket: bucketDead, key: deathKey(d.seq), val: []byte(d.id)})
	}
	for _, d := range w.evict {
		if d.seq != 0 {
			out = append(out, op{bucket: bucketDead, key: deathKey(d.seq)})
		}
		if d.id != "" {
			out = append(out, op{bucket: bucketActors, key: []byte(d.id)})
		}
	}
	return out, nil
}

// apply sets and deletes the keys of ops in one transaction, in order.
func (s *store) apply(ops []op) error {
	if len(ops) == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, o := range ops {
			b := tx.Bucket(o.bucket)
			if b == nil {
				return fmt.Errorf("no bucket %s", o.bucket)
			}
			var err error
			if o.val == nil {
				err = b.Delete(o.key)
			} else {
				err = b.Put(o.key, o.val)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// load reads every record.
func (s *store) load() (*write, error) {
	w := &write{}
	err := s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketNodes).ForEach(func(_, v []byte) error {
			n := new(actorv1.NodeInfo)
			w.nodes = append(w.nodes, n)
			return proto.Unmarshal(v, n)
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketActors).ForEach(func(_, v []byte) error {
			a := new(actorv1.ActorRecord)
			w.actors = append(w.actors, a)
			return proto.Unmarshal(v, a)
		})
		if err != nil {
			return err
		}
		// Keys sort by the number of the death: the oldest come first.
		err = tx.Bucket(bucketDead).ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return fmt.Errorf("dead actors: key %x is not a death's number", k)
			}
			w.deaths = append(w.deaths, death{seq: binary.BigEndian.Uint64(k), id: string(v)})
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketGroups).ForEach(func(_, v []byte) error {
			g := new(actorv1.PlacementGroupInfo)
			w.groups = append(w.groups, g)
			return proto.Unmarshal(v, g)
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketDurable).ForEach(func(k, v []byte) error {
			da := new(actorv1.DurableActivation)
			w.durable = append(w.durable, durableWrite{key: string(k), da: da})
			return proto.Unmarshal(v, da)
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketJobs).ForEach(func(_, v []byte) error {
			j := new(actorv1.JobInfo)
			w.jobs = append(w.jobs, j)
			return proto.Unmarshal(v, j)
		})
	})
	return w, err
}
