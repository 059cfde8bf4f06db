"""The local distributed stack without Docker (``make up`` / ``make down``, ``emostream stack``, the integration
tests): one module per job.

- :mod:`~emostream.stack.config`: which services, on which ports (``StackConfig``, ``Ports``, ``free_port``);
- :mod:`~emostream.stack.layout`: the files under the stack's root (password, configs, logs, ``stack.json``);
- :mod:`~emostream.stack.plan`: each service's command line, environment and readiness probe;
- :mod:`~emostream.stack.probes`: readiness probes (gRPC health, HTTP, Redis PING);
- :mod:`~emostream.stack.redis_server` and :mod:`~emostream.stack.prometheus`: their executables and configs;
- :mod:`~emostream.stack.processes`: spawning a process, telling it from a recycled pid, stopping it;
- :mod:`~emostream.stack.state`: the pids recorded in ``stack.json``, their status, stopping exactly them;
- :mod:`~emostream.stack.stack`: :class:`~emostream.stack.stack.Stack`, which starts, restarts and stops them.
"""
