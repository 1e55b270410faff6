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
		for _, b := range [][]byte{bucketNodes, bucketActors, bucketJobs, bucketDead, bucketMeta} {
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

// write is one batch of records to store.
type write struct {
	nodes  []*actorv1.NodeInfo
	actors []*actorv1.ActorRecord
	jobs   []*actorv1.JobInfo
	// deaths are the deaths to number; evict are the dead actors to
	// delete, with their deaths, after the records above are stored.
	deaths []death
	evict  []death
}

// death is an entry of the dead bucket: the number of an actor's death
// among the head's, and the actor's id. Seq 0 is no entry (the actor died
// before the head numbered deaths); an empty id is an entry whose actor
// record is not to be deleted.
type death struct {
	seq uint64
	id  string
}

func (w *write) empty() bool {
	return len(w.nodes)+len(w.actors)+len(w.jobs)+len(w.deaths)+len(w.evict) == 0
}

func deathKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// put stores the records of w in one transaction, then deletes what it
// evicts.
func (s *store) put(w *write) error {
	if w.empty() {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, n := range w.nodes {
			if err := putMsg(tx.Bucket(bucketNodes), n.GetNodeId(), n); err != nil {
				return err
			}
		}
		for _, a := range w.actors {
			if err := putMsg(tx.Bucket(bucketActors), a.GetInfo().GetActorId(), a); err != nil {
				return err
			}
		}
		for _, j := range w.jobs {
			if err := putMsg(tx.Bucket(bucketJobs), j.GetJobId(), j); err != nil {
				return err
			}
		}
		dead := tx.Bucket(bucketDead)
		for _, d := range w.deaths {
			if err := dead.Put(deathKey(d.seq), []byte(d.id)); err != nil {
				return err
			}
		}
		for _, d := range w.evict {
			if d.seq != 0 {
				if err := dead.Delete(deathKey(d.seq)); err != nil {
					return err
				}
			}
			if d.id != "" {
				if err := tx.Bucket(bucketActors).Delete([]byte(d.id)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func putMsg(b *bolt.Bucket, key string, m proto.Message) error {
	v, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), v)
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
		return tx.Bucket(bucketJobs).ForEach(func(_, v []byte) error {
			j := new(actorv1.JobInfo)
			w.jobs = append(w.jobs, j)
			return proto.Unmarshal(v, j)
		})
	})
	return w, err
}
