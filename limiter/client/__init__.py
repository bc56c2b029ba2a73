"""The hook client developers install: standard library only, Python 3.9+ (docs/hook-client.md).

One module per concern: `paths` and `state` (where files live, the user's cache), `http` and `config`
(talking to the server with this machine's token), `transcript` (model and token usage), `hooks` and
`gate` (the Claude Code events), `offline` and `usage` (deciding and explaining from the cache with the
server's own engine, imported as `..engine`), `counts` and `server` (the count queue, sync), `installer`,
`managed`, `rootfs` and `watchdog` (root's side), `commands` and `cli` (what people type). The server
serves it built into one file with its pure modules: limiter/hook_client/build.py.
"""
