package gen

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// problems collects the errors of one file, so that a run reports all of them
// at once.
type problems struct{ errs []error }

func (p *problems) add(err error) { p.errs = append(p.errs, err) }

func (p *problems) err() error { return errors.Join(p.errs...) }

// serviceError names the file and the service a problem is in, and the rpc
// if there is one: "counter/v1/counter.proto: service counter.v1.Counter:
// rpc Get: option concurrency_group: ...".
func serviceError(svc *protogen.Service, rpc *protogen.Method, format string, args ...any) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: service %s: ", svc.Desc.ParentFile().Path(), svc.Desc.FullName())
	if rpc != nil {
		fmt.Fprintf(&b, "rpc %s: ", rpc.Desc.Name())
	}
	fmt.Fprintf(&b, format, args...)
	return errors.New(b.String())
}

// checkPlainService refuses actor method options on a service that is not an
// actor: they would silently do nothing.
func checkPlainService(errs *problems, svc *protogen.Service) {
	for _, m := range svc.Methods {
		if methodOptions(m) != nil {
			errs.add(serviceError(svc, m, "option method: the service is not an actor; add option (actor.v1.actor) to the service or remove the method option"))
		}
	}
}

// checkService checks an actor service's options and rpcs, adds what is wrong
// to errs, and resolves the init message. It reports whether the service is
// fit to generate.
func checkService(errs *problems, s *actorService, idx *index) bool {
	before := len(errs.errs)
	svc, o := s.svc, s.options
	bad := func(option, format string, args ...any) {
		errs.add(serviceError(svc, nil, "option "+option+": "+format, args...))
	}

	checkUnknownFields(bad, "actor", o)

	// init
	if init, tried := resolveInit(o.GetInit(), svc.Desc.ParentFile().Package(), idx); init != nil {
		s.init = init.GoIdent
		o.Init = string(init.Desc.FullName())
	} else if o.GetInit() == "" {
		// google/protobuf/empty.proto need not be among the request's files.
		s.init = emptyIdent
		o.Init = string(emptyName)
	} else if enum := findEnum(tried, idx); enum != "" {
		bad("init", "%q is the enum %s; init names a message", o.GetInit(), enum)
	} else {
		bad("init", "no message %q (looked for %s)", o.GetInit(), strings.Join(tried, " and "))
	}

	// durable
	if o.GetDurable() {
		checkDurable(bad, s, idx)
	} else if o.GetState() != "" {
		bad("state", "only durable actors keep a state message; set durable: true or remove state")
	}

	// resources
	checkAmount(bad, "num_cpus", o.GetNumCpus())
	checkAmount(bad, "num_gpus", o.GetNumGpus())
	for _, name := range sortedKeys(o.GetResources()) {
		if name == "" {
			bad("resources", "empty resource name")
			continue
		}
		checkAmount(bad, "resources", o.GetResources()[name], strconv.Quote(name)+": ")
	}
	for _, key := range sortedKeys(o.GetLabelSelector()) {
		if key == "" {
			bad("label_selector", "empty label key")
		}
	}

	// concurrency
	if n := o.GetMaxConcurrency(); n < 0 {
		bad("max_concurrency", "%d is negative (0 means the default, 1)", n)
	}
	groups := sortedKeys(o.GetConcurrencyGroups())
	for _, name := range groups {
		if name == "" {
			bad("concurrency_groups", "empty group name")
			continue
		}
		if n := o.GetConcurrencyGroups()[name]; n < 1 {
			bad("concurrency_groups", "%q: limit %d is less than 1", name, n)
		}
	}

	// failures
	checkRetries(bad, "max_restarts", o.GetMaxRestarts())
	checkRetries(bad, "max_task_retries", o.GetMaxTaskRetries())
	if n := o.GetMaxPendingCalls(); n < 0 {
		bad("max_pending_calls", "%d is negative (0 means without limit)", n)
	}

	// placement
	checkEnum(bad, "lifetime", o.GetLifetime())
	checkEnum(bad, "scheduling", o.GetScheduling())

	for _, m := range s.methods {
		checkMethod(errs, svc, m, groups)
		if o.GetDurable() {
			checkDurableMethod(errs, svc, m)
		}
	}
	return len(errs.errs) == before
}

// durableOptions are the actor options a durable service may set. The
// others describe an actor's life in memory and its placement: a durable
// actor lives in the state store, is activated where it is called, is never
// owned, and never restarted (a panic fails only its call); its mutating
// calls run one at a time, each committing the next version of the state.
var durableOptions = map[protoreflect.Name]bool{"init": true, "durable": true, "state": true, "max_pending_calls": true}

// checkDurable resolves a durable service's state message and refuses the
// options that do not apply to durable actors.
func checkDurable(bad badFunc, s *actorService, idx *index) {
	o := s.options
	switch state, tried := resolveInit(o.GetState(), s.svc.Desc.ParentFile().Package(), idx); {
	case o.GetState() == "":
		bad("state", "a durable actor needs a state message; name it in state")
	case state != nil:
		s.state = state.GoIdent
		o.State = string(state.Desc.FullName())
	case findEnum(tried, idx) != "":
		bad("state", "%q is the enum %s; state names a message", o.GetState(), findEnum(tried, idx))
	default:
		bad("state", "no message %q (looked for %s)", o.GetState(), strings.Join(tried, " and "))
	}
	o.ProtoReflect().Range(func(f protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !durableOptions[f.Name()] {
			bad(string(f.Name()), "does not apply to durable actors, which live in the state store, are never restarted and run mutating calls one at a time; remove it")
		}
		return true
	})
}

// checkDurableMethod refuses task retries on durable actors' methods.
// (A concurrency_group is refused by checkMethod: durable services declare
// no groups.)
func checkDurableMethod(errs *problems, svc *protogen.Service, m *actorMethod) {
	if m.options != nil && m.options.MaxTaskRetries != nil {
		errs.add(serviceError(svc, m.method, "option max_task_retries: durable actors are never restarted, so calls are not retried on them; retry with actor.WithCallKey instead"))
	}
}

func checkMethod(errs *problems, svc *protogen.Service, m *actorMethod, groups []string) {
	rpc := m.method
	if rpc.Desc.IsStreamingClient() || rpc.Desc.IsStreamingServer() {
		errs.add(serviceError(svc, rpc, "streaming rpc %s is not supported by actors; use unary", rpc.Desc.Name()))
	}
	o := m.options
	if o == nil {
		return
	}
	bad := func(option, format string, args ...any) {
		errs.add(serviceError(svc, rpc, "option "+option+": "+format, args...))
	}
	checkUnknownFields(bad, "method", o)
	if g := o.GetConcurrencyGroup(); g != "" && !slices.Contains(groups, g) {
		if len(groups) == 0 {
			bad("concurrency_group", "%q is not a concurrency group: the service declares none in its concurrency_groups", g)
		} else {
			bad("concurrency_group", "%q is not one of the service's concurrency_groups (%s)", g, strings.Join(quoteAll(groups), ", "))
		}
	}
	if o.MaxTaskRetries != nil {
		checkRetries(bad, "max_task_retries", o.GetMaxTaskRetries())
	}
}

// resolveInit finds the init message: relative to the service's package
// first, then fully qualified. It returns the names it tried.
func resolveInit(name string, pkg protoreflect.FullName, idx *index) (*protogen.Message, []string) {
	if name == "" {
		return idx.messages[emptyName], nil
	}
	var tried []string
	if rest, ok := strings.CutPrefix(name, "."); ok {
		tried = []string{rest}
	} else {
		if pkg != "" {
			tried = append(tried, string(pkg)+"."+name)
		}
		tried = append(tried, name)
	}
	for _, full := range tried {
		if m := idx.messages[protoreflect.FullName(full)]; m != nil {
			return m, tried
		}
	}
	return nil, tried
}

// findEnum returns the first of names that is an enum, or "".
func findEnum(names []string, idx *index) string {
	for _, n := range names {
		if idx.enums[protoreflect.FullName(n)] != nil {
			return n
		}
	}
	return ""
}

type badFunc func(option, format string, args ...any)

// checkAmount refuses resource amounts a scheduler cannot use.
func checkAmount(bad badFunc, option string, v float64, key ...string) {
	prefix := strings.Join(key, "")
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		bad(option, "%s%v is not a finite number", prefix, v)
	case v < 0:
		bad(option, "%s%v is negative", prefix, v)
	}
}

// checkRetries refuses counts below -1, the value meaning without limit.
func checkRetries(bad badFunc, option string, n int32) {
	if n < -1 {
		bad(option, "%d is less than -1 (-1 means without limit)", n)
	}
}

// checkEnum refuses numeric enum values the enum does not declare.
func checkEnum[E interface {
	protoreflect.Enum
	~int32
}](bad badFunc, option string, v E) {
	if v.Descriptor().Values().ByNumber(protoreflect.EnumNumber(v)) == nil {
		bad(option, "unknown value %d of %s", int32(v), v.Descriptor().FullName())
	}
}

// checkUnknownFields refuses option fields this build of the plugin does not
// know: options.proto is newer than protoc-gen-actor, and the generated code
// would silently drop them.
func checkUnknownFields(bad badFunc, option string, m proto.Message) {
	raw := m.ProtoReflect().GetUnknown()
	var numbers []string
	for len(raw) > 0 {
		num, _, n := protowire.ConsumeField(raw)
		if n < 0 {
			break
		}
		numbers = append(numbers, strconv.Itoa(int(num)))
		raw = raw[n:]
	}
	switch len(numbers) {
	case 0:
	case 1:
		bad(option, "field %s is unknown to this protoc-gen-actor; update it to the version of actor/v1/options.proto", numbers[0])
	default:
		bad(option, "fields %s are unknown to this protoc-gen-actor; update it to the version of actor/v1/options.proto", strings.Join(numbers, ", "))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return q
}
