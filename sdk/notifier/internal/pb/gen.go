// Package pb holds the generated protobuf and gRPC code of the notifier
// wire protocol. The generated files are committed; regenerate them after
// editing notifier.proto with `go generate ./...` in sdk/notifier (needs
// protoc, protoc-gen-go and protoc-gen-go-grpc on PATH; see the SDK's
// README).
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative notifier.proto
