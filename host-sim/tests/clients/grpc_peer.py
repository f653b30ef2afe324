"""A real gRPC server and client (grpcio) for host-sim's serve tests (host-sim/tests/serve.rs).

  grpc_peer.py server NAME        serves every method on 127.0.0.1 (a port the OS chooses),
                                  answering each unary call with b"NAME:" + the request; prints
                                  "grpc-peer: NAME listening on 127.0.0.1:PORT"
  grpc_peer.py authz NAME allow|deny
                                  serves Envoy's ext_authz Check on 127.0.0.1 like `server`,
                                  answering every call with a CheckResponse that allows (adding
                                  the request header x-authz: NAME) or denies (403, body
                                  "denied by NAME"); prints each method called
  grpc_peer.py call TARGET AUTHORITY /pkg.Service/Method
                                  calls the method through TARGET (host:port) with :authority
                                  AUTHORITY; prints {"code": "OK"|..., "reply": ..., "details": ...}

Generic handlers pass raw bytes, so no code generation is needed; the CheckResponse is written
in protobuf's wire format here, apart from every codec gatewasm and host-sim use.
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


def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


def field(tag, payload):
    """A length-delimited field: a message, a string or bytes."""
    return varint(tag << 3 | 2) + varint(len(payload)) + payload


def check_response(name, allow):
    """envoy.service.auth.v3.CheckResponse: status (1, google.rpc.Status), denied_response (2),
    ok_response (3); an OkHttpResponse's headers (2) are HeaderValueOptions, whose header (1) is
    a HeaderValue of key (1) and value (2); a DeniedHttpResponse has status (1, HttpStatus with
    code 1) and body (3)."""
    if allow:
        header = field(1, field(1, b"x-authz") + field(2, name))
        return field(1, b"") + field(3, field(2, header))
    denied = field(1, varint(1 << 3) + varint(403)) + field(3, b"denied by " + name)
    return field(1, varint(1 << 3) + varint(7)) + field(2, denied)


class Authz(grpc.GenericRpcHandler):
    def __init__(self, name, allow):
        self.answer = check_response(name.encode(), allow)

    def service(self, handler_call_details):
        print(f"grpc-peer: called {handler_call_details.method}", file=sys.stderr, flush=True)
        return grpc.unary_unary_rpc_method_handler(lambda request, context: self.answer)


def server(name, handler=None):
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    srv.add_generic_rpc_handlers((handler or Echo(name),))
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
    elif sys.argv[1] == "authz":
        server(sys.argv[2], Authz(sys.argv[2], sys.argv[3] == "allow"))
    else:
        call(*sys.argv[2:5])
