// Package troupe is the root of the Troupe module: typed actors for Go,
// described in protobuf and served over Connect.
//
// The runtime API lives in package actor (runtime/actor); the code generator
// in protoc-gen-actor. Running go generate ./... at the root regenerates every
// generated file through buf, pinned in tools/go.mod.
package troupe

//go:generate go tool -modfile=tools/go.mod buf generate
