package gen

import (
	"github.com/dave/jennifer/jen"
)

// spawn declares the ways to get a handle: spawn a new actor through the
// options builder, look a named one up, or turn a reference received in a
// message back into a handle.
func (w *writer) spawn(s *actorService) []jen.Code {
	n := s.names
	handle := jen.Op("*").Id(n.Handle)
	name := s.svc.GoName
	deprecated := s.deprecated()
	if s.durable() {
		return []jen.Code{
			new(doc).
				textf("%s returns a handle to the durable %s actor with the given id, created from\n"+
					"init by its first call if the state store does not have it; an actor that exists\n"+
					"keeps its state. It returns at once: calls activate the actor.", n.GetOrCreate, name).
				deprecated(deprecated).code().
				Func().Id(n.GetOrCreate).Params(
				jen.Id("ctx").Add(w.qual(contextPackage, "Context")),
				jen.Id("sys").Op("*").Add(w.qual(actorPackage, "System")),
				jen.Id("id").String(),
				jen.Id("init").Add(w.ptr(s.init)),
			).Params(handle.Clone(), jen.Error()).Block(
				jen.Return(w.qual(actorPackage, "GetOrCreate").Call(
					jen.Id("ctx"), jen.Id("sys"), jen.Id(n.class), jen.Id("id"), jen.Id("init"), jen.Id(n.newHandle),
				)),
			),
		}
	}

	return []jen.Code{
		new(doc).
			textf("%s returns a builder for spawning %s actors, pre-filled with the defaults\ndeclared in the proto.", n.Options, name).
			deprecated(deprecated).code().
			Func().Id(n.Options).Params().
			Op("*").Add(w.qual(actorPackage, "Spawner")).Types(w.ptr(s.init), handle.Clone()).
			Block(jen.Return(w.qual(actorPackage, "NewSpawner").Call(jen.Id(n.class), jen.Id(n.newHandle)))),

		new(doc).
			textf("%s returns a handle to the %s actor with the given name. It returns an\nerror, not a panic, if no actor has the name or if the name is bound to an\nactor of another class.", n.Get, name).
			deprecated(deprecated).code().
			Func().Id(n.Get).Params(
			jen.Id("ctx").Add(w.qual(contextPackage, "Context")),
			jen.Id("sys").Op("*").Add(w.qual(actorPackage, "System")),
			jen.Id("name").String(),
			jen.Id("opts").Op("...").Add(w.qual(actorPackage, "LookupOption")),
		).Params(handle.Clone(), jen.Error()).Block(
			jen.Return(w.qual(actorPackage, "Lookup").Call(
				jen.Id("ctx"), jen.Id("sys"), jen.Id(n.class), jen.Id("name"), jen.Id(n.newHandle), jen.Id("opts").Op("..."),
			)),
		),

		new(doc).
			textf("%s turns a reference received in a message back into a typed handle.\nIt returns an error if the reference names an actor of another class.", n.FromRef).
			deprecated(deprecated).code().
			Func().Id(n.FromRef).Params(
			jen.Id("ctx").Add(w.qual(contextPackage, "Context")),
			jen.Id("sys").Op("*").Add(w.qual(actorPackage, "System")),
			jen.Id("ref").Op("*").Add(w.qual(actorv1Package, "ActorRef")),
		).Params(handle.Clone(), jen.Error()).Block(
			jen.Return(w.qual(actorPackage, "FromRef").Call(
				jen.Id("ctx"), jen.Id("sys"), jen.Id(n.class), jen.Id("ref"), jen.Id(n.newHandle),
			)),
		),
	}
}
