package gen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"google.golang.org/protobuf/compiler/protogen"
)

// serviceNames are the identifiers generated for one actor service Counter.
// Exported ones are API and never change behind the user's back: when two
// services would produce the same one, generation fails. Unexported ones are
// made unique by a numeric suffix.
type serviceNames struct {
	ClassName string // CounterClassName, the class's full name
	Actor     string // CounterActor, the interface the user implements
	Register  string // RegisterCounter
	Handle    string // CounterHandle
	Options   string // CounterOptions, the spawn builder
	Get       string // GetCounter, the lookup by name
	FromRef   string // CounterFromRef
	// GetOrCreate is GetOrCreateCounter, the way to a durable actor;
	// durable services have it instead of Options, Get and FromRef.
	GetOrCreate string

	class     string // counterClass, the class descriptor
	newHandle string // newCounterHandle, wraps a *actor.Ref
}

// methodNames are the identifiers generated for one rpc Increment of Counter.
type methodNames struct {
	Procedure string // CounterIncrementProcedure
	Actor     string // Increment, the method of CounterActor
	// Handle is the method of CounterHandle: the rpc's Go name, with "_"
	// appended when it would collide with the handle's own Ref or ActorRef.
	Handle string

	desc string // counterIncrementMethod, the method descriptor
}

// handleMethods are the methods every generated handle declares itself;
// durableHandleMethods those of a durable actor's handle.
var (
	handleMethods        = []string{"Ref", "ActorRef"}
	durableHandleMethods = []string{"Ref", "ID"}
)

// assignNames computes the names of every service of the package and records
// the package's top-level identifiers. It fails when two rpcs of a service
// share a Go name or when two services of the package would declare the same
// exported identifier.
func (pkg *outputPackage) assignNames() error {
	var errs problems
	pkg.topLevel = map[string]bool{}
	owners := map[string]string{} // exported identifier -> what declared it first
	claim := func(s *actorService, m *actorMethod, ident string) {
		owner := fmt.Sprintf("service %s (%s)", s.svc.Desc.FullName(), s.file.Desc.Path())
		if m != nil {
			owner = fmt.Sprintf("service %s rpc %s (%s)", s.svc.Desc.FullName(), m.method.Desc.Name(), s.file.Desc.Path())
		}
		if first, ok := owners[ident]; ok {
			var rpc *protogen.Method
			if m != nil {
				rpc = m.method
			}
			errs.add(serviceError(s.svc, rpc, "generated identifier %s is also generated for %s; rename one of them", ident, first))
			return
		}
		owners[ident] = owner
		pkg.topLevel[ident] = true
	}
	private := func(ident string) string {
		unique := ident
		for i := 2; pkg.topLevel[unique]; i++ {
			unique = ident + strconv.Itoa(i)
		}
		pkg.topLevel[unique] = true
		return unique
	}

	for _, af := range pkg.files {
		for _, s := range af.services {
			name := s.svc.GoName
			n := &serviceNames{
				ClassName: name + "ClassName",
				Actor:     name + "Actor",
				Register:  "Register" + name,
				Handle:    name + "Handle",
			}
			idents := []string{n.ClassName, n.Actor, n.Register, n.Handle}
			if s.durable() {
				n.GetOrCreate = "GetOrCreate" + name
				idents = append(idents, n.GetOrCreate)
			} else {
				n.Options, n.Get, n.FromRef = name+"Options", "Get"+name, name+"FromRef"
				idents = append(idents, n.Options, n.Get, n.FromRef)
			}
			for _, ident := range idents {
				claim(s, nil, ident)
			}
			s.names = n

			goNames := map[string]*actorMethod{}
			for _, m := range s.methods {
				goName := m.method.GoName
				if other, ok := goNames[goName]; ok {
					errs.add(serviceError(s.svc, m.method, "Go method name %s is also the name of rpc %s; rename one of them", goName, other.method.Desc.Name()))
					continue
				}
				goNames[goName] = m
				m.names = &methodNames{
					Procedure: name + goName + "Procedure",
					Actor:     goName,
				}
				claim(s, m, m.names.Procedure)
			}
			if s.durable() {
				assignHandleMethods(s.methods, durableHandleMethods)
			} else {
				assignHandleMethods(s.methods, handleMethods)
			}
		}
	}
	if err := errs.err(); err != nil {
		return err
	}

	// Unexported names come second so that they yield to exported ones.
	for _, af := range pkg.files {
		for _, s := range af.services {
			prefix := unexport(s.svc.GoName)
			s.names.class = private(prefix + "Class")
			s.names.newHandle = private("new" + s.svc.GoName + "Handle")
			for _, m := range s.methods {
				m.names.desc = private(prefix + m.method.GoName + "Method")
			}
		}
	}
	return nil
}

// assignHandleMethods names the handle's methods: an rpc keeps its Go name
// unless the handle declares that name itself; then it gets underscores
// appended until it is free, as protoc-gen-go does for fields.
func assignHandleMethods(methods []*actorMethod, own []string) {
	taken := map[string]bool{}
	for _, h := range own {
		taken[h] = true
	}
	for _, m := range methods {
		if m.names != nil && !taken[m.names.Actor] {
			m.names.Handle = m.names.Actor
			taken[m.names.Handle] = true
		}
	}
	for _, m := range methods {
		if m.names == nil || m.names.Handle != "" {
			continue
		}
		h := m.names.Actor + "_"
		for taken[h] {
			h += "_"
		}
		m.names.Handle = h
		taken[h] = true
	}
}

// unexport lowers the leading capitals of an exported Go name, keeping an
// initialism together: "Counter" -> "counter", "HTTPServer" -> "httpServer",
// "ID" -> "id".
func unexport(name string) string {
	r := []rune(name)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	if n > 1 && n < len(r) && unicode.IsLower(r[n]) {
		n-- // the last capital starts the next word: HTTPServer
	}
	return strings.ToLower(string(r[:n])) + string(r[n:])
}
