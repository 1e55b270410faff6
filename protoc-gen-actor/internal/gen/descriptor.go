package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// constants declares the class name and the procedure of every method: the
// wire identities the runtime, tracing and other languages agree on.
func (w *writer) constants(s *actorService) []jen.Code {
	n := s.names
	full := s.svc.Desc.FullName()
	decls := []jen.Code{
		new(doc).textf("%s is the fully-qualified name of the %s actor class.", n.ClassName, full).code().
			Const().Id(n.ClassName).Op("=").Lit(string(full)),
	}
	if len(s.methods) == 0 {
		return decls
	}
	return append(decls, new(doc).
		textf("These constants are the fully-qualified names of the %s's methods,\nthe same strings connect uses.", s.svc.GoName).code().
		Const().DefsFunc(func(g *jen.Group) {
		for _, m := range s.methods {
			g.Add(new(doc).textf("%s is the fully-qualified name of the %s's %s method.", m.names.Procedure, s.svc.GoName, m.method.Desc.Name()).code()).
				Id(m.names.Procedure).Op("=").Lit(m.procedure())
		}
	}))
}

// descriptors declares a method descriptor per rpc and the class descriptor:
// everything the runtime needs to dispatch a call, registered once, shared by
// the handle, the spawner and the lookups.
func (w *writer) descriptors(s *actorService) (jen.Code, error) {
	n := s.names
	var specs []jen.Code
	for _, m := range s.methods {
		opts := jen.Nil()
		if m.options != nil {
			lit, err := w.literal(m.options.ProtoReflect())
			if err != nil {
				return nil, fmt.Errorf("rpc %s: option method: %w", m.method.Desc.Name(), err)
			}
			opts = lit
		}
		newMethod := "NewMethod"
		if s.durable() {
			newMethod = "NewDurableMethod"
		}
		specs = append(specs, jen.Id(m.names.desc).Op("=").Add(w.qual(actorPackage, newMethod)).Call(
			jen.Id(m.names.Procedure),
			jen.Id(n.Actor).Dot(m.names.Actor),
			opts,
		))
	}

	defaults, err := w.literal(s.options.ProtoReflect())
	if err != nil {
		return nil, fmt.Errorf("option actor: %w", err)
	}
	args := []jen.Code{jen.Id(n.ClassName), defaults}
	for _, m := range s.methods {
		args = append(args, jen.Id(m.names.desc))
	}
	newClass, types := "NewClass", []jen.Code{w.ptr(s.init), jen.Id(n.Actor)}
	if s.durable() {
		newClass, types = "NewDurableClass", []jen.Code{w.ptr(s.init), w.ptr(s.state), jen.Id(n.Actor)}
	}
	specs = append(specs, jen.Id(n.class).Op("=").Add(w.qual(actorPackage, newClass)).
		Types(types...).
		Custom(jen.Options{Open: "(", Close: ")", Separator: ",", Multi: true}, args...))

	return new(doc).
		textf("%s describes the %s actor class to the runtime: its methods\nand the defaults declared in the proto.", n.class, s.svc.Desc.FullName()).code().
		Var().Defs(specs...), nil
}
