// Scenario classes run one after another: the 6.x client blocks threads while it connects.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
