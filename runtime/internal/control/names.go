package control

import (
	"github.com/troupehq/troupe/runtime/internal/errs"
	"github.com/troupehq/troupe/runtime/internal/node"
)

// Names binds a name in a namespace to a live actor: the name registry of
// the embedded node (A is *node.Actor) and of the head (its actor
// records). A dead actor's name is free, even before its death has been
// processed. The caller holds the lock that guards it.
type Names[A comparable] struct {
	m    map[nameKey]A
	dead func(A) bool
}

type nameKey struct{ namespace, name string }

// NewNames returns an empty registry; dead reports whether an actor has
// died.
func NewNames[A comparable](dead func(A) bool) *Names[A] {
	return &Names[A]{m: map[nameKey]A{}, dead: dead}
}

// Live returns the live actor bound to name in namespace.
func (n *Names[A]) Live(namespace, name string) (A, bool) {
	key := nameKey{namespace, name}
	a, ok := n.m[key]
	if ok && n.dead(a) {
		delete(n.m, key)
		var zero A
		return zero, false
	}
	return a, ok
}

// Bind binds spec's name, if it has one, to a.
func (n *Names[A]) Bind(spec *node.Spec, a A) {
	if spec.Name != "" {
		n.m[nameKey{spec.Namespace, spec.Name}] = a
	}
}

// Free unbinds spec's name if it is bound to a.
func (n *Names[A]) Free(spec *node.Spec, a A) {
	key := nameKey{spec.Namespace, spec.Name}
	if spec.Name != "" && n.m[key] == a {
		delete(n.m, key)
	}
}

// Taken is the rule for spawning an actor of class under spec's name
// while the live actor old (its id and class) holds it: with
// GetIfExists, spawn returns old when it is of the same class; else the
// name is taken.
func Taken(spec *node.Spec, class, oldID, oldClass string) error {
	if !spec.GetIfExists {
		return errs.Newf(errs.ErrNameTaken, "actor name %q is taken in namespace %q by actor %s", spec.Name, spec.Namespace, oldID)
	}
	if oldClass != class {
		return errs.Newf(errs.ErrWrongClass, "actor %q in namespace %q is a %s, not a %s", spec.Name, spec.Namespace, oldClass, class)
	}
	return nil
}
