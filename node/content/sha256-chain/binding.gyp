{
  "targets": [
    {
      "target_name": "sha256_chain",
      "sources": ["sha256_chain.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
