"""upstreams/kimi."""
