package gen_test

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	actorv1 "github.com/troupehq/troupe/gen/actor/v1"
	"github.com/troupehq/troupe/protoc-gen-actor/internal/gen"
)

// fixtureSet is the checked-in descriptor set of testdata/proto, built by
// go generate in this package.
const fixtureSet = "../../testdata/fixture.binpb"

// fixture is a mutable copy of the fixture descriptors, by file name.
type fixture struct {
	files []*descriptorpb.FileDescriptorProto
}

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	data, err := os.ReadFile(fixtureSet)
	if err != nil {
		t.Fatalf("read the fixture descriptor set (run go generate in this package): %v", err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	return &fixture{files: set.GetFile()}
}

func (f *fixture) file(t *testing.T, name string) *descriptorpb.FileDescriptorProto {
	t.Helper()
	for _, fd := range f.files {
		if fd.GetName() == name {
			return fd
		}
	}
	t.Fatalf("no file %s in the fixture", name)
	return nil
}

func (f *fixture) service(t *testing.T, file, name string) *descriptorpb.ServiceDescriptorProto {
	t.Helper()
	for _, s := range f.file(t, file).GetService() {
		if s.GetName() == name {
			return s
		}
	}
	t.Fatalf("no service %s in %s", name, file)
	return nil
}

func (f *fixture) method(t *testing.T, file, service, name string) *descriptorpb.MethodDescriptorProto {
	t.Helper()
	for _, m := range f.service(t, file, service).GetMethod() {
		if m.GetName() == name {
			return m
		}
	}
	t.Fatalf("no rpc %s in %s", name, service)
	return nil
}

// actorOptions changes a service's (actor.v1.actor) option in place.
func (f *fixture) actorOptions(t *testing.T, file, service string, change func(*actorv1.ActorOptions)) {
	t.Helper()
	s := f.service(t, file, service)
	if s.Options == nil {
		s.Options = &descriptorpb.ServiceOptions{}
	}
	o := proto.Clone(proto.GetExtension(s.Options, actorv1.E_Actor).(*actorv1.ActorOptions)).(*actorv1.ActorOptions)
	change(o)
	proto.SetExtension(s.Options, actorv1.E_Actor, o)
}

// methodOptions changes an rpc's (actor.v1.method) option in place, adding
// it if the rpc has none.
func (f *fixture) methodOptions(t *testing.T, file, service, rpc string, change func(*actorv1.MethodOptions)) {
	t.Helper()
	m := f.method(t, file, service, rpc)
	if m.Options == nil {
		m.Options = &descriptorpb.MethodOptions{}
	}
	o := &actorv1.MethodOptions{}
	if proto.HasExtension(m.Options, actorv1.E_Method) {
		o = proto.Clone(proto.GetExtension(m.Options, actorv1.E_Method).(*actorv1.MethodOptions)).(*actorv1.MethodOptions)
	}
	change(o)
	proto.SetExtension(m.Options, actorv1.E_Method, o)
}

// request is what buf sends the plugin for the fixture module: every
// fixture file to generate, with module= as buf.gen.yaml sets it.
func (f *fixture) request() *pluginpb.CodeGeneratorRequest {
	req := &pluginpb.CodeGeneratorRequest{Parameter: proto.String("module=github.com/troupehq/troupe")}
	for _, fd := range f.files {
		if strings.HasPrefix(fd.GetName(), "fixture/") {
			req.FileToGenerate = append(req.FileToGenerate, fd.GetName())
		}
		req.ProtoFile = append(req.ProtoFile, fd)
	}
	return req
}

// generate runs the generator in-process on the fixture, as protoc-gen-actor
// would. It returns the generated files by name, or the generator's error.
func (f *fixture) generate(t *testing.T) (map[string]string, error) {
	t.Helper()
	plugin, err := protogen.Options{}.New(f.request())
	if err != nil {
		t.Fatalf("protogen: %v", err)
	}
	if err := gen.Generate(plugin); err != nil {
		if files := plugin.Response().GetFile(); len(files) > 0 {
			t.Errorf("the generator failed but still wrote %d files", len(files))
		}
		return nil, err
	}
	resp := plugin.Response()
	if resp.Error != nil {
		t.Fatalf("response error: %s", resp.GetError())
	}
	out := map[string]string{}
	for _, file := range resp.GetFile() {
		out[file.GetName()] = file.GetContent()
	}
	return out, nil
}
