package gen

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dave/jennifer/jen"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// literal renders a message value as a Go composite literal of its generated
// type, &pkg.Msg{Field: value, ...}, setting the fields the message has in
// the order the .proto declares them. Go names come from the request's own
// description of the message, so the literal matches the code protoc-gen-go
// generated from the same file.
func (w *writer) literal(m protoreflect.Message) (*jen.Statement, error) {
	md := m.Descriptor()
	gm := w.idx.messages[md.FullName()]
	if gm == nil {
		return nil, fmt.Errorf("message %s is not among the files of the request", md.FullName())
	}
	var (
		fields []jen.Code
		multi  bool
	)
	for _, f := range gm.Fields {
		fd := md.Fields().ByNumber(f.Desc.Number())
		if fd == nil || !m.Has(fd) {
			continue
		}
		v, err := w.fieldValue(f, m.Get(fd))
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", fd.Name(), err)
		}
		name := f.GoName
		if f.Oneof != nil && !f.Oneof.Desc.IsSynthetic() {
			// The oneof's field holds a wrapper: &pkg.Msg_Field{Field: v}.
			name = f.Oneof.GoName
			v = jen.Op("&").Add(w.ident(f.GoIdent)).Values(jen.Id(f.GoName).Op(":").Add(v))
		}
		if fd.IsMap() || fd.IsList() || fd.Message() != nil {
			multi = true
		}
		fields = append(fields, jen.Id(name).Op(":").Add(v))
	}
	return jen.Op("&").Add(w.ident(gm.GoIdent)).Add(values(multi || len(fields) > 3, fields)), nil
}

// values is a composite literal's {...}, one element a line if multi.
func values(multi bool, elems []jen.Code) *jen.Statement {
	return jen.Custom(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: multi && len(elems) > 0}, elems...)
}

func (w *writer) fieldValue(f *protogen.Field, v protoreflect.Value) (*jen.Statement, error) {
	fd := f.Desc
	switch {
	case fd.IsMap():
		return w.mapValue(f, v.Map())
	case fd.IsList():
		list := v.List()
		elems := make([]jen.Code, 0, list.Len())
		for i := range list.Len() {
			e, err := w.singular(f, list.Get(i))
			if err != nil {
				return nil, err
			}
			elems = append(elems, e)
		}
		return jen.Index().Add(w.goType(f)).Add(values(len(elems) > 3 || fd.Message() != nil, elems)), nil
	case isPointer(fd):
		e, err := w.singular(f, v)
		if err != nil {
			return nil, err
		}
		if fd.Enum() != nil {
			return e.Dot("Enum").Call(), nil
		}
		return w.qual(protoPackage, pointerHelpers[fd.Kind()]).Call(e), nil
	default:
		return w.singular(f, v)
	}
}

func (w *writer) mapValue(f *protogen.Field, m protoreflect.Map) (*jen.Statement, error) {
	key, val := f.Message.Fields[0], f.Message.Fields[1]
	var keys []protoreflect.MapKey
	m.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	slices.SortFunc(keys, compareKeys)
	elems := make([]jen.Code, 0, len(keys))
	for _, k := range keys {
		kc, err := w.singular(key, k.Value())
		if err != nil {
			return nil, err
		}
		vc, err := w.singular(val, m.Get(k))
		if err != nil {
			return nil, err
		}
		elems = append(elems, kc.Op(":").Add(vc))
	}
	typ := jen.Map(w.goType(key)).Add(w.goType(val))
	return typ.Add(values(len(elems) > 3 || val.Desc.Message() != nil, elems)), nil
}

// compareKeys orders map keys for a stable output: numbers by value, strings
// and bools by their text.
func compareKeys(a, b protoreflect.MapKey) int {
	switch a.Interface().(type) {
	case int32, int64:
		return cmp.Compare(a.Int(), b.Int())
	case uint32, uint64:
		return cmp.Compare(a.Uint(), b.Uint())
	default:
		return strings.Compare(a.String(), b.String())
	}
}

// singular renders one value of the field's kind: an element of a list or
// map, or the field itself.
func (w *writer) singular(f *protogen.Field, v protoreflect.Value) (*jen.Statement, error) {
	switch k := f.Desc.Kind(); k {
	case protoreflect.BoolKind:
		return jen.Lit(v.Bool()), nil
	case protoreflect.StringKind:
		return jen.Lit(v.String()), nil
	case protoreflect.BytesKind:
		return jen.Index().Byte().Call(jen.Lit(string(v.Bytes()))), nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return jen.Op(strconv.FormatInt(v.Int(), 10)), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return jen.Op(strconv.FormatUint(v.Uint(), 10)), nil
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		x := v.Float()
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a finite number", x)
		}
		bits := 64
		if k == protoreflect.FloatKind {
			bits = 32
		}
		s := strconv.FormatFloat(x, 'g', -1, bits)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		return jen.Op(s), nil
	case protoreflect.EnumKind:
		n := v.Enum()
		for _, ev := range f.Enum.Values {
			if ev.Desc.Number() == n {
				return w.ident(ev.GoIdent), nil
			}
		}
		return w.ident(f.Enum.GoIdent).Call(jen.Op(strconv.Itoa(int(n)))), nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return w.literal(v.Message())
	default:
		return nil, fmt.Errorf("unsupported kind %v", k)
	}
}

// goType is the Go type of one value of the field, as protoc-gen-go declares
// it.
func (w *writer) goType(f *protogen.Field) *jen.Statement {
	switch f.Desc.Kind() {
	case protoreflect.BoolKind:
		return jen.Bool()
	case protoreflect.StringKind:
		return jen.String()
	case protoreflect.BytesKind:
		return jen.Index().Byte()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return jen.Int32()
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return jen.Int64()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return jen.Uint32()
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return jen.Uint64()
	case protoreflect.FloatKind:
		return jen.Float32()
	case protoreflect.DoubleKind:
		return jen.Float64()
	case protoreflect.EnumKind:
		return w.ident(f.Enum.GoIdent)
	default: // message or group
		return w.ptr(f.Message.GoIdent)
	}
}

// isPointer reports whether protoc-gen-go declares the field as a pointer to
// a scalar: a singular scalar with explicit presence outside a real oneof,
// such as a proto3 optional int32.
func isPointer(fd protoreflect.FieldDescriptor) bool {
	if !fd.HasPresence() || fd.IsList() || fd.IsMap() || fd.Message() != nil || fd.Kind() == protoreflect.BytesKind {
		return false
	}
	oneof := fd.ContainingOneof()
	return oneof == nil || oneof.IsSynthetic()
}

// pointerHelpers are the functions of package proto that return a pointer to
// a scalar.
var pointerHelpers = map[protoreflect.Kind]string{
	protoreflect.BoolKind:     "Bool",
	protoreflect.StringKind:   "String",
	protoreflect.Int32Kind:    "Int32",
	protoreflect.Sint32Kind:   "Int32",
	protoreflect.Sfixed32Kind: "Int32",
	protoreflect.Int64Kind:    "Int64",
	protoreflect.Sint64Kind:   "Int64",
	protoreflect.Sfixed64Kind: "Int64",
	protoreflect.Uint32Kind:   "Uint32",
	protoreflect.Fixed32Kind:  "Uint32",
	protoreflect.Uint64Kind:   "Uint64",
	protoreflect.Fixed64Kind:  "Uint64",
	protoreflect.FloatKind:    "Float32",
	protoreflect.DoubleKind:   "Float64",
}
