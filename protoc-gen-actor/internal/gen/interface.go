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
		textf("%s is the interface an implementation of the %s actor class satisfies.", n.Actor, s.svc.Desc.FullName())
	if s.durable() {
		d.textf("The actor is durable: each method receives the actor's state. A mutating method may\n" +
			"change it in place; the change is committed with the result before the caller sees\n" +
			"success, and dropped if the method fails or panics. A readonly method must not\n" +
			"change it. The implementation holds no actor's state itself.")
	}
	d.proto(s.svc.Comments.Leading).deprecated(s.deprecated())
	return d.code().Type().Id(n.Actor).InterfaceFunc(func(g *jen.Group) {
		for _, m := range s.methods {
			params := []jen.Code{w.qual(contextPackage, "Context")}
			if s.durable() {
				params = append(params, w.ptr(s.state))
			}
			params = append(params, w.ptr(m.method.Input.GoIdent))
			g.Add(new(doc).proto(m.method.Comments.Leading).deprecated(m.deprecated()).code()).
				Id(m.names.Actor).
				Params(params...).
				Params(w.ptr(m.method.Output.GoIdent), jen.Error())
		}
	})
}

// register declares RegisterCounter, which binds the user's constructor to
// the class.
func (w *writer) register(s *actorService) jen.Code {
	n := s.names
	if s.durable() {
		create := jen.Func().
			Params(w.qual(contextPackage, "Context"), jen.String(), w.ptr(s.init)).
			Params(w.ptr(s.state), jen.Error())
		return new(doc).
			textf("%s binds impl, the behaviour of every %s actor, to the class so that a\n"+
				"node can host it. create makes the state of an actor the state store does not have\n"+
				"yet from its id and the init given to %s; nil starts from an empty state\n"+
				"(or from the init itself when init and state are the same message).", n.Register, s.svc.Desc.FullName(), n.GetOrCreate).
			deprecated(s.deprecated()).code().
			Func().Id(n.Register).Params(jen.Id("impl").Id(n.Actor), jen.Id("create").Add(create)).Add(w.qual(actorPackage, "Registration")).Block(
			jen.Return(w.qual(actorPackage, "RegisterDurable").Call(jen.Id(n.class), jen.Id("impl"), jen.Id("create"))),
		)
	}
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
