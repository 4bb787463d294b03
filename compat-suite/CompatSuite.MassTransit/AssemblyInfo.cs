// One scenario at a time: the broker-restart scenario kills the broker, which would break any scenario running
// beside it, and each MassTransit bus is a handful of connections and threads on a 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
