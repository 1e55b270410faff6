package actor

import (
	"log/slog"
	"maps"
)

// An Option configures a System at Start.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	namespace string
	log       *slog.Logger
	classes   []Registration
	cpus      *float64
	gpus      *float64
	memory    *float64
	resources map[string]float64
	labels    map[string]string
	nodeID    string
}

// WithClasses registers actor classes, so that this process's node can
// host them. Generated RegisterFoo functions return the Registration.
func WithClasses(classes ...Registration) Option {
	return optionFunc(func(c *config) { c.classes = append(c.classes, classes...) })
}

// WithNamespace sets the namespace of the names this system's actors take
// and look up. Default "default".
func WithNamespace(namespace string) Option {
	return optionFunc(func(c *config) { c.namespace = namespace })
}

// WithLogger sets the logger of the runtime. Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.log = l })
}

// WithNumCPUs sets the node's logical CPU. Default: its cores.
func WithNumCPUs(n float64) Option {
	return optionFunc(func(c *config) { c.cpus = &n })
}

// WithNumGPUs sets the node's logical GPU. Default: the NVIDIA devices
// found, else 0.
func WithNumGPUs(n float64) Option {
	return optionFunc(func(c *config) { c.gpus = &n })
}

// WithMemory sets the node's logical memory in bytes. Default: the
// machine's physical memory.
func WithMemory(bytes uint64) Option {
	return optionFunc(func(c *config) { m := float64(bytes); c.memory = &m })
}

// WithResources adds custom resources to the node, such as
// {"writer_node": 1}. Default none. The keys CPU, GPU and memory set those.
func WithResources(r map[string]float64) Option {
	return optionFunc(func(c *config) {
		if c.resources == nil {
			c.resources = map[string]float64{}
		}
		maps.Copy(c.resources, r)
	})
}

// WithLabels sets the node's labels, matched by label selectors.
// Default none.
func WithLabels(labels map[string]string) Option {
	return optionFunc(func(c *config) {
		if c.labels == nil {
			c.labels = map[string]string{}
		}
		maps.Copy(c.labels, labels)
	})
}

// WithNodeID sets the node's id. Default: a random id.
func WithNodeID(id string) Option {
	return optionFunc(func(c *config) { c.nodeID = id })
}
