package cluster

import (
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
		for _, b := range [][]byte{bucketNodes, bucketActors, bucketJobs} {
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

// write is one batch of records to store.
type write struct {
	nodes  []*actorv1.NodeInfo
	actors []*actorv1.ActorRecord
	jobs   []*actorv1.JobInfo
}

func (w *write) empty() bool { return len(w.nodes)+len(w.actors)+len(w.jobs) == 0 }

// put stores the records of w in one transaction.
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
		return tx.Bucket(bucketJobs).ForEach(func(_, v []byte) error {
			j := new(actorv1.JobInfo)
			w.jobs = append(w.jobs, j)
			return proto.Unmarshal(v, j)
		})
	})
	return w, err
}
