"""A real gRPC server and client (grpcio) for host-sim's serve tests (host-sim/tests/serve.rs).

  grpc_peer.py server NAME        serves every method on 127.0.0.1 (a port the OS chooses),
                                  answering each unary call with b"NAME:" + the request; prints
                                  "grpc-peer: NAME listening on 127.0.0.1:PORT"
  grpc_peer.py call TARGET AUTHORITY /pkg.Service/Method
                                  calls the method through TARGET (host:port) with :authority
                                  AUTHORITY; prints {"code": "OK"|..., "reply": ..., "details": ...}

Generic handlers pass raw bytes, so no code generation is needed.
"""

import json
import sys
from concurrent import futures

import grpc


class Echo(grpc.GenericRpcHandler):
    def __init__(self, name):
        self.name = name.encode()

    def service(self, handler_call_details):
        return grpc.unary_unary_rpc_method_handler(lambda request, context: self.name + b":" + request)


def server(name):
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    srv.add_generic_rpc_handlers((Echo(name),))
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    print(f"grpc-peer: {name} listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    srv.wait_for_termination()


def call(target, authority, method):
    options = [("grpc.default_authority", authority)]
    with grpc.insecure_channel(target, options=options) as channel:
        stub = channel.unary_unary(method)
        try:
            reply = stub(b"hello", timeout=20)
            print(json.dumps({"code": "OK", "reply": reply.decode(), "details": None}))
        except grpc.RpcError as error:
            print(json.dumps({"code": error.code().name, "reply": None, "details": error.details()}))


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2])
    else:
        call(*sys.argv[2:5])
