package gen

import (
	"github.com/dave/jennifer/jen"
)

// handle declares the typed handle: a wrapper of *actor.Ref with one method
// per rpc that sends the call and returns a future at once.
func (w *writer) handle(s *actorService) []jen.Code {
	n := s.names
	recv := func() *jen.Statement { return jen.Params(jen.Id("h").Op("*").Id(n.Handle)) }
	refType, call := "Ref", "Call"
	if s.durable() {
		refType, call = "DurableRef", "CallDurable"
	}
	ref := func() *jen.Statement { return jen.Op("*").Add(w.qual(actorPackage, refType)) }

	decls := []jen.Code{
		new(doc).
			textf("%s is a typed handle to one %s actor.", n.Handle, s.svc.GoName).
			proto(s.svc.Comments.Leading).
			deprecated(s.deprecated()).code().
			Type().Id(n.Handle).Struct(jen.Id("ref").Add(ref())),

		jen.Func().Id(n.newHandle).Params(jen.Id("ref").Add(ref())).Op("*").Id(n.Handle).Block(
			jen.Return(jen.Op("&").Id(n.Handle).Values(jen.Id("ref").Op(":").Id("ref"))),
		),

		new(doc).textf("Ref returns the handle's untyped reference. It is nil for a nil handle.").code().
			Func().Add(recv()).Id("Ref").Params().Add(ref()).Block(
			jen.If(jen.Id("h").Op("==").Nil()).Block(jen.Return(jen.Nil())),
			jen.Return(jen.Id("h").Dot("ref")),
		),
	}
	if s.durable() {
		decls = append(decls, new(doc).textf("ID returns the actor's id, as given to %s.", n.GetOrCreate).code().
			Func().Add(recv()).Id("ID").Params().String().Block(
			jen.Return(jen.Id("h").Dot("Ref").Call().Dot("ID").Call()),
		))
	} else {
		decls = append(decls, new(doc).textf("ActorRef returns the serialisable reference, to send the handle inside a message.").code().
			Func().Add(recv()).Id("ActorRef").Params().Op("*").Add(w.qual(actorv1Package, "ActorRef")).Block(
			jen.Return(jen.Id("h").Dot("Ref").Call().Dot("Proto").Call()),
		))
	}

	for _, m := range s.methods {
		d := new(doc).textf("%s calls the actor's %s method. It returns at once; Get waits for the result.", m.names.Handle, m.method.GoName)
		if m.names.Handle != m.names.Actor {
			d = new(doc).textf("%s calls the actor's %s method; the name %s belongs to the handle.\nIt returns at once; Get waits for the result.", m.names.Handle, m.method.GoName, m.method.GoName)
		}
		d.proto(m.method.Comments.Leading).deprecated(m.deprecated())
		future := jen.Op("*").Add(w.qual(actorPackage, "Future")).Types(w.ptr(m.method.Output.GoIdent))
		decls = append(decls, d.code().
			Func().Add(recv()).Id(m.names.Handle).
			Params(jen.Id("ctx").Add(w.qual(contextPackage, "Context")), jen.Id("req").Add(w.ptr(m.method.Input.GoIdent))).
			Add(future).
			Block(jen.Return(w.qual(actorPackage, call).Call(
				jen.Id("ctx"), jen.Id("h").Dot("Ref").Call(), jen.Id(m.names.desc), jen.Id("req"),
			))))
	}
	return decls
}
