"""Background work: a catalog-backed job queue (``queue``), worker threads that drain it (``runner``), and the
engine pools (``pool``). Import the module you need: the CLI's batches need only ``pool``, not the catalog."""
