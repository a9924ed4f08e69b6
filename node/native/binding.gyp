{
  "targets": [
    {
      "target_name": "chiral_native",
      "sources": ["addon.c", "sha256-chain.c", "write-chunk.c", "release-memory.c", "aligned-buffer.c", "chacha20-poly1305.c", "name-threads.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
