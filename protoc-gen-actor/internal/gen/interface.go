package gen

import (
	"github.com/dave/jennifer/jen"
)

// actorInterface declares the interface a user implements: one plain method
// per rpc, run by the actor's executor one call at a time unless the options
// say otherwise.
func (w *writer) actorInterface(s *actorService) jen.Code {
	n := s.names
	d := new(doc).
		textf("%s is the interface an implementation of the %s actor class satisfies.", n.Actor, s.svc.Desc.FullName()).
		proto(s.svc.Comments.Leading).
		deprecated(s.deprecated())
	return d.code().Type().Id(n.Actor).InterfaceFunc(func(g *jen.Group) {
		for _, m := range s.methods {
			g.Add(new(doc).proto(m.method.Comments.Leading).deprecated(m.deprecated()).code()).
				Id(m.names.Actor).
				Params(w.qual(contextPackage, "Context"), w.ptr(m.method.Input.GoIdent)).
				Params(w.ptr(m.method.Output.GoIdent), jen.Error())
		}
	})
}

// register declares RegisterCounter, which binds the user's constructor to
// the class.
func (w *writer) register(s *actorService) jen.Code {
	n := s.names
	factory := jen.Func().
		Params(w.qual(contextPackage, "Context"), w.ptr(s.init)).
		Params(jen.Id(n.Actor), jen.Error())
	return new(doc).
		textf("%s binds a constructor to the %s class so that a node can host it.", n.Register, s.svc.Desc.FullName()).
		deprecated(s.deprecated()).code().
		Func().Id(n.Register).Params(jen.Id("factory").Add(factory)).Add(w.qual(actorPackage, "Registration")).Block(
		jen.Return(w.qual(actorPackage, "Register").Call(jen.Id(n.class), jen.Id("factory"))),
	)
}
