package gen

import (
	"os"
	"testing"

	"github.com/dave/jennifer/jen"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// TestLiteralKinds renders a message that uses what ActorOptions does not
// yet: proto2 optional scalars and enums (pointers), repeated messages,
// bytes, negative and unsigned 64-bit numbers. google/protobuf/descriptor.proto
// is among the fixture's imports.
func TestLiteralKinds(t *testing.T) {
	data, err := os.ReadFile("../../testdata/fixture.binpb")
	if err != nil {
		t.Fatal(err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(data, &set); err != nil {
		t.Fatal(err)
	}
	plugin, err := protogen.Options{}.New(&pluginpb.CodeGeneratorRequest{ProtoFile: set.GetFile()})
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{idx: newIndex(plugin.Files), imports: map[protogen.GoImportPath]string{}}

	m := &descriptorpb.FileOptions{
		JavaPackage: proto.String("com.example"),
		OptimizeFor: descriptorpb.FileOptions_CODE_SIZE.Enum(),
		Deprecated:  proto.Bool(true),
		UninterpretedOption: []*descriptorpb.UninterpretedOption{{
			Name:             []*descriptorpb.UninterpretedOption_NamePart{{NamePart: proto.String("x"), IsExtension: proto.Bool(false)}},
			PositiveIntValue: proto.Uint64(18446744073709551615),
			NegativeIntValue: proto.Int64(-9),
			DoubleValue:      proto.Float64(2),
			StringValue:      []byte("a\x00b"),
		}},
	}
	lit, err := w.literal(m.ProtoReflect())
	if err != nil {
		t.Fatal(err)
	}
	f := jen.NewFile("p")
	f.Var().Id("_").Op("=").Add(lit)
	w.nameImports(f, nil)
	want := `package p

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

var _ = &descriptorpb.FileOptions{
	JavaPackage: proto.String("com.example"),
	OptimizeFor: descriptorpb.FileOptions_CODE_SIZE.Enum(),
	Deprecated:  proto.Bool(true),
	UninterpretedOption: []*descriptorpb.UninterpretedOption{
		&descriptorpb.UninterpretedOption{
			Name: []*descriptorpb.UninterpretedOption_NamePart{
				&descriptorpb.UninterpretedOption_NamePart{NamePart: proto.String("x"), IsExtension: proto.Bool(false)},
			},
			PositiveIntValue: proto.Uint64(18446744073709551615),
			NegativeIntValue: proto.Int64(-9),
			DoubleValue:      proto.Float64(2.0),
			StringValue:      []byte("a\x00b"),
		},
	},
}
`
	if got := f.GoString(); got != want {
		t.Errorf("literal:\n%s\nwant:\n%s", got, want)
	}
}
