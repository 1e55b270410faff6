package gen

import (
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
)

// actorService is one service carrying the (actor.v1.actor) option, once its
// options have been read and checked.
type actorService struct {
	file *protogen.File
	svc  *protogen.Service
	// options are the class defaults as declared, with Init rewritten to the
	// fully-qualified name of the init message.
	options *actorv1.ActorOptions
	// init is the Go type of the message the constructor receives.
	init protogen.GoIdent
	// state is the Go type of a durable actor's state message; durable
	// services only.
	state   protogen.GoIdent
	methods []*actorMethod
	names   *serviceNames
}

// actorMethod is one rpc of an actor service.
type actorMethod struct {
	method *protogen.Method
	// options is nil when the rpc carries no (actor.v1.method) option.
	options *actorv1.MethodOptions
	names   *methodNames
}

// durable reports whether the service is a durable (virtual) actor class.
func (s *actorService) durable() bool { return s.options.GetDurable() }

func (s *actorService) deprecated() bool {
	opts, _ := s.svc.Desc.Options().(*descriptorpb.ServiceOptions)
	return opts.GetDeprecated()
}

func (m *actorMethod) deprecated() bool {
	opts, _ := m.method.Desc.Options().(*descriptorpb.MethodOptions)
	return opts.GetDeprecated()
}

// procedure is the method's wire identity, the path connect serves it at.
func (m *actorMethod) procedure() string {
	return "/" + string(m.method.Parent.Desc.FullName()) + "/" + string(m.method.Desc.Name())
}

// actorOptions returns the service's (actor.v1.actor) option, or nil when the
// service is not an actor.
func actorOptions(svc *protogen.Service) *actorv1.ActorOptions {
	opts := svc.Desc.Options()
	if opts == nil || !proto.HasExtension(opts, actorv1.E_Actor) {
		return nil
	}
	return proto.GetExtension(opts, actorv1.E_Actor).(*actorv1.ActorOptions)
}

// methodOptions returns the rpc's (actor.v1.method) option, or nil.
func methodOptions(m *protogen.Method) *actorv1.MethodOptions {
	opts := m.Desc.Options()
	if opts == nil || !proto.HasExtension(opts, actorv1.E_Method) {
		return nil
	}
	return proto.GetExtension(opts, actorv1.E_Method).(*actorv1.MethodOptions)
}

// emptyName is the init message of an actor whose init option is empty.
const emptyName protoreflect.FullName = "google.protobuf.Empty"

// emptyIdent is google.protobuf.Empty's Go type, for requests that do not
// include google/protobuf/empty.proto.
var emptyIdent = protogen.GoIdent{GoName: "Empty", GoImportPath: "google.golang.org/protobuf/types/known/emptypb"}

// index finds the messages, enums and Go package names of every file of the
// request, imports included.
type index struct {
	messages map[protoreflect.FullName]*protogen.Message
	enums    map[protoreflect.FullName]*protogen.Enum
	packages map[protogen.GoImportPath]protogen.GoPackageName
}

func newIndex(files []*protogen.File) *index {
	idx := &index{
		messages: map[protoreflect.FullName]*protogen.Message{},
		enums:    map[protoreflect.FullName]*protogen.Enum{},
		packages: map[protogen.GoImportPath]protogen.GoPackageName{
			emptyIdent.GoImportPath: "emptypb",
		},
	}
	var addMessages func([]*protogen.Message)
	addEnums := func(enums []*protogen.Enum) {
		for _, e := range enums {
			idx.enums[e.Desc.FullName()] = e
		}
	}
	addMessages = func(msgs []*protogen.Message) {
		for _, m := range msgs {
			idx.messages[m.Desc.FullName()] = m
			addEnums(m.Enums)
			addMessages(m.Messages)
		}
	}
	for _, f := range files {
		idx.packages[f.GoImportPath] = f.GoPackageName
		addEnums(f.Enums)
		addMessages(f.Messages)
	}
	return idx
}

// readFile reads and checks the actor services of one file. It returns every
// problem it finds, joined.
func readFile(file *protogen.File, idx *index) ([]*actorService, error) {
	var (
		services []*actorService
		errs     problems
	)
	for _, svc := range file.Services {
		opts := actorOptions(svc)
		if opts == nil {
			checkPlainService(&errs, svc)
			continue
		}
		s := &actorService{file: file, svc: svc, options: proto.Clone(opts).(*actorv1.ActorOptions)}
		for _, m := range svc.Methods {
			am := &actorMethod{method: m}
			if mo := methodOptions(m); mo != nil {
				am.options = proto.Clone(mo).(*actorv1.MethodOptions)
			}
			s.methods = append(s.methods, am)
		}
		if checkService(&errs, s, idx) {
			services = append(services, s)
		}
	}
	return services, errs.err()
}
