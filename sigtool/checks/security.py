"""Unsafe ops: a SavedModel is code, and some ops touch files, processes or the network."""

from __future__ import annotations

from sigtool.checks.rules import Severity, rule, tags_of

# saved_model_cli scan's list, then a wider default. Checkpoint ops (Save,
# SaveSlices, SaveV2, RestoreV2, MergeV2Checkpoints, ShardedFilename) are in
# every model's saver and asset-table initializers read the model's own assets:
# neither is listed.
SCAN_DEFAULT = frozenset({"ReadFile", "WriteFile", "PrintV2"})
UNSAFE_OPS: dict[str, str] = {
    **{op: "reads or writes files" for op in (
        "ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst", "WholeFileReader", "WholeFileReaderV2",
        "TextLineReader", "TextLineReaderV2", "FixedLengthRecordReader", "FixedLengthRecordReaderV2",
        "TFRecordReader", "TFRecordReaderV2", "LMDBReader", "LoadAndRemapMatrix", "TextLineDataset",
        "TFRecordDataset", "TFRecordDatasetV2", "FixedLengthRecordDataset", "FixedLengthRecordDatasetV2",
        "LMDBDataset", "ExperimentalLMDBDataset", "DatasetToTFRecord", "ExperimentalDatasetToTFRecord",
        "SaveDataset", "SaveDatasetV2", "LoadDataset", "SnapshotDataset", "SnapshotDatasetV2",
        "CreateSummaryFileWriter", "WriteSummary", "WriteRawProtoSummary",
    )},
    **{op: "prints to the server's logs or a file" for op in ("PrintV2", "Print")},
    **{op: "runs Python code" for op in ("PyFunc", "PyFuncStateless", "EagerPyFunc")},
    **{op: "talks to the network" for op in (
        "Rpc", "TryRpc", "RpcClient", "RpcServer", "RpcCall", "RpcServerStart", "RpcServerRegister",
        "DataServiceDataset", "DataServiceDatasetV2", "DataServiceDatasetV3", "DataServiceDatasetV4",
        "DebugIdentityV2", "DebugIdentityV3", "DebugIdentity", "DebugNanCount", "DebugNumericSummary",
    )},
}


def denied(options) -> dict[str, str]:
    ops = {op: why for op, why in UNSAFE_OPS.items() if op not in options.allow_ops}
    ops.update({op: "on the --deny-op list" for op in options.deny_ops if op not in options.allow_ops})
    return ops


@rule("SEC001", Severity.ERROR)
def no_unsafe_ops(info, options):
    """No op that touches files, processes or the network, in the graph or any library function.

    Loading a SavedModel runs its graph: ReadFile/WriteFile, Python callbacks,
    RPC or debug ops can read secrets, write files or call out. The default
    list extends saved_model_cli scan's three ops; --deny-op/--allow-op
    adjust it.
    """
    deny = denied(options)
    for mg in info.meta_graphs:
        if mg.graph is None:
            continue
        found: dict[str, list[str]] = {}
        for node in mg.graph.nodes:
            if node.op in deny:
                found.setdefault(node.op, []).append(node.name)
        for fn in mg.graph.functions:
            for node in fn.nodes:
                if node.op in deny:
                    found.setdefault(node.op, []).append(f"{fn.name}/{node.name}")
        for op, places in sorted(found.items()):
            shown = ", ".join(sorted(places)[:3]) + (f" and {len(places) - 3} more" if len(places) > 3 else "")
            yield tags_of(mg), f"op {op} {deny[op]} (at {shown}); remove it, or --allow-op {op} if it is intended"
