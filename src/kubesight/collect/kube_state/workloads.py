"""Deployments, replica sets, stateful sets, daemon sets, jobs and cron jobs, as kube-state-metrics v2.x."""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime
from typing import Any

from kubesight.collect.kube_state import _cron as cron
from kubesight.collect.kube_state._rows import (
    ANNOTATIONS_HELP,
    CREATED_HELP,
    DELETION_HELP,
    LABELS_HELP,
    ONE,
    Kind,
    Options,
    Out,
    Rows,
    Spec,
    boolean,
    conditions_status,
    gauge,
    meta_labels,
)
from kubesight.collect.kube_state._values import count, items, number, sub, text, unix


def _common(kind: str, extra: tuple[Spec, ...]) -> tuple[Spec, ...]:
    return (gauge(f"kube_{kind}_created", CREATED_HELP), *extra,
            gauge(f"kube_{kind}_annotations", ANNOTATIONS_HELP),
            gauge(f"kube_{kind}_labels", LABELS_HELP))


def _start(obj: Any, opts: Options, resource: str, kind: str, name_label: str) -> tuple[Out, dict[str, Any]]:
    meta = sub(obj, "metadata")
    out = Out((("namespace", text(meta, "namespace")), (name_label, text(meta, "name"))))
    out.maybe(f"kube_{kind}_created", unix(meta.get("creationTimestamp")))
    meta_labels(out, obj, resource, kind, opts.labels, opts.annotations)
    return out, meta


def _owners(out: Out, family: str, meta: dict[str, Any], with_controller: bool = True) -> None:
    owners = items(meta, "ownerReferences")
    if not owners:
        out.add(family, ONE)
    for o in owners:
        pairs = [("owner_kind", text(o, "kind")), ("owner_name", text(o, "name"))]
        if with_controller:
            pairs.append(("owner_is_controller", "true" if o.get("controller") is True else "false"))
        out.add(family, ONE, *pairs)


# ---- deployments ------------------------------------------------------------------

_DEPLOYMENT_REASONS = {"ReplicaSetUpdated", "ReplicaSetCreateError", "NewReplicaSetCreated",
                       "FoundNewReplicaSet", "NewReplicaSetAvailable", "ProgressDeadlineExceeded",
                       "DeploymentPaused", "DeploymentResumed", "MinimumReplicasAvailable",
                       "MinimumReplicasUnavailable", ""}

DEPLOYMENT = _common("deployment", (
    gauge("kube_deployment_owner", "Information about the Deployment's owner."),
    gauge("kube_deployment_status_replicas", "The number of replicas per deployment."),
    gauge("kube_deployment_status_replicas_ready", "The number of ready replicas per deployment."),
    gauge("kube_deployment_status_replicas_available", "The number of available replicas per deployment."),
    gauge("kube_deployment_status_replicas_unavailable", "The number of unavailable replicas per deployment."),
    gauge("kube_deployment_status_replicas_updated", "The number of updated replicas per deployment."),
    gauge("kube_deployment_status_terminating_replicas", "The number of terminating replicas per deployment."),
    gauge("kube_deployment_status_observed_generation", "The generation observed by the deployment controller."),
    gauge("kube_deployment_status_condition", "The current status conditions of a deployment."),
    gauge("kube_deployment_spec_replicas", "Number of desired pods for a deployment."),
    gauge("kube_deployment_spec_paused",
          "Whether the deployment is paused and will not be processed by the deployment controller."),
    gauge("kube_deployment_spec_strategy_rollingupdate_max_unavailable",
          "Maximum number of unavailable replicas during a rolling update of a deployment."),
    gauge("kube_deployment_spec_strategy_rollingupdate_max_surge",
          "Maximum number of replicas that can be scheduled above the desired number of replicas "
          "during a rolling update of a deployment."),
    gauge("kube_deployment_metadata_generation",
          "Sequence number representing a specific generation of the desired state."),
    gauge("kube_deployment_deletion_timestamp", DELETION_HELP),
))


def scaled(value: Any, total: int, round_up: bool) -> float | None:
    """An int-or-percent (``25%``) against ``total``, as intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str) and value.endswith("%"):
        try:
            pct = int(value[:-1])
        except ValueError:
            return None
        x = pct * total / 100
        return float(math.ceil(x) if round_up else math.floor(x))
    return None


def deployment(obj: Any, opts: Options) -> Rows:
    out, meta = _start(obj, opts, "deployments", "deployment", "deployment")
    spec, status = sub(obj, "spec"), sub(obj, "status")
    _owners(out, "kube_deployment_owner", meta, with_controller=False)
    for fam, key in (("status_replicas", "replicas"), ("status_replicas_ready", "readyReplicas"),
                     ("status_replicas_available", "availableReplicas"),
                     ("status_replicas_unavailable", "unavailableReplicas"),
                     ("status_replicas_updated", "updatedReplicas")):
        out.add(f"kube_deployment_{fam}", count(status, key))
    out.maybe("kube_deployment_status_terminating_replicas", number(status, "terminatingReplicas"))
    out.add("kube_deployment_status_observed_generation", count(status, "observedGeneration"))
    for c in items(status, "conditions"):
        reason = text(c, "reason")
        conditions_status(out, "kube_deployment_status_condition", text(c, "type"), text(c, "status"),
                          ("reason", reason if reason in _DEPLOYMENT_REASONS else "unknown"))
    replicas = number(spec, "replicas")
    out.maybe("kube_deployment_spec_replicas", replicas)
    out.add("kube_deployment_spec_paused", boolean(spec.get("paused") is True))
    rolling = sub(spec, "strategy", "rollingUpdate")
    if isinstance(sub(spec, "strategy").get("rollingUpdate"), dict) and replicas is not None:
        out.maybe("kube_deployment_spec_strategy_rollingupdate_max_unavailable",
                  scaled(rolling.get("maxUnavailable"), int(replicas), False))
        out.maybe("kube_deployment_spec_strategy_rollingupdate_max_surge",
                  scaled(rolling.get("maxSurge"), int(replicas), True))
    out.add("kube_deployment_metadata_generation", count(meta, "generation"))
    out.maybe("kube_deployment_deletion_timestamp", unix(meta.get("deletionTimestamp")))
    return out.rows_()


# ---- replica sets -----------------------------------------------------------------

REPLICASET = _common("replicaset", (
    gauge("kube_replicaset_status_replicas", "The number of replicas per ReplicaSet."),
    gauge("kube_replicaset_status_fully_labeled_replicas", "The number of fully labeled replicas per ReplicaSet."),
    gauge("kube_replicaset_status_ready_replicas", "The number of ready replicas per ReplicaSet."),
    gauge("kube_replicaset_status_terminating_replicas", "The number of terminating replicas per ReplicaSet."),
    gauge("kube_replicaset_status_observed_generation", "The generation observed by the ReplicaSet controller."),
    gauge("kube_replicaset_spec_replicas", "Number of desired pods for a ReplicaSet."),
    gauge("kube_replicaset_metadata_generation",
          "Sequence number representing a specific generation of the desired state."),
    gauge("kube_replicaset_owner", "Information about the ReplicaSet's owner."),
))


def replicaset(obj: Any, opts: Options) -> Rows:
    out, meta = _start(obj, opts, "replicasets", "replicaset", "replicaset")
    spec, status = sub(obj, "spec"), sub(obj, "status")
    out.add("kube_replicaset_status_replicas", count(status, "replicas"))
    out.add("kube_replicaset_status_fully_labeled_replicas", count(status, "fullyLabeledReplicas"))
    out.add("kube_replicaset_status_ready_replicas", count(status, "readyReplicas"))
    out.maybe("kube_replicaset_status_terminating_replicas", number(status, "terminatingReplicas"))
    out.add("kube_replicaset_status_observed_generation", count(status, "observedGeneration"))
    out.maybe("kube_replicaset_spec_replicas", number(spec, "replicas"))
    out.add("kube_replicaset_metadata_generation", count(meta, "generation"))
    _owners(out, "kube_replicaset_owner", meta)
    return out.rows_()


# ---- stateful sets ----------------------------------------------------------------

STATEFULSET = _common("statefulset", (
    gauge("kube_statefulset_status_replicas", "The number of replicas per StatefulSet."),
    gauge("kube_statefulset_status_replicas_available", "The number of available replicas per StatefulSet."),
    gauge("kube_statefulset_status_replicas_current", "The number of current replicas per StatefulSet."),
    gauge("kube_statefulset_status_replicas_ready", "The number of ready replicas per StatefulSet."),
    gauge("kube_statefulset_status_replicas_updated", "The number of updated replicas per StatefulSet."),
    gauge("kube_statefulset_status_observed_generation", "The generation observed by the StatefulSet controller."),
    gauge("kube_statefulset_replicas", "Number of desired pods for a StatefulSet."),
    gauge("kube_statefulset_ordinals_start", "Start ordinal of the StatefulSet."),
    gauge("kube_statefulset_metadata_generation",
          "Sequence number representing a specific generation of the desired state for the StatefulSet."),
    gauge("kube_statefulset_persistentvolumeclaim_retention_policy",
          "Count of retention policy for StatefulSet template PVCs"),
    gauge("kube_statefulset_status_current_revision",
          "Indicates the version of the StatefulSet used to generate Pods in the sequence [0,currentReplicas)."),
    gauge("kube_statefulset_status_update_revision",
          "Indicates the version of the StatefulSet used to generate Pods in the sequence "
          "[replicas-updatedReplicas,replicas)"),
    gauge("kube_statefulset_deletion_timestamp", DELETION_HELP),
))


def statefulset(obj: Any, opts: Options) -> Rows:
    out, meta = _start(obj, opts, "statefulsets", "statefulset", "statefulset")
    spec, status = sub(obj, "spec"), sub(obj, "status")
    for fam, key in (("status_replicas", "replicas"), ("status_replicas_available", "availableReplicas"),
                     ("status_replicas_current", "currentReplicas"),
                     ("status_replicas_ready", "readyReplicas"),
                     ("status_replicas_updated", "updatedReplicas"),
                     ("status_observed_generation", "observedGeneration")):
        out.add(f"kube_statefulset_{fam}", count(status, key))
    out.maybe("kube_statefulset_replicas", number(spec, "replicas"))
    if isinstance(spec.get("ordinals"), dict):
        out.add("kube_statefulset_ordinals_start", count(sub(spec, "ordinals"), "start"))
    out.add("kube_statefulset_metadata_generation", count(meta, "generation"))
    policy = sub(spec, "persistentVolumeClaimRetentionPolicy")
    deleted, scaled_ = text(policy, "whenDeleted"), text(policy, "whenScaled")
    if deleted or scaled_:
        out.add("kube_statefulset_persistentvolumeclaim_retention_policy", ONE,
                ("when_deleted", deleted), ("when_scaled", scaled_))
    out.add("kube_statefulset_status_current_revision", ONE, ("revision", text(status, "currentRevision")))
    out.add("kube_statefulset_status_update_revision", ONE, ("revision", text(status, "updateRevision")))
    out.maybe("kube_statefulset_deletion_timestamp", unix(meta.get("deletionTimestamp")))
    return out.rows_()


# ---- daemon sets ------------------------------------------------------------------

_DS_STATUS = (
    ("current_number_scheduled", "currentNumberScheduled",
     "The number of nodes running at least one daemon pod and are supposed to."),
    ("desired_number_scheduled", "desiredNumberScheduled", "The number of nodes that should be running the daemon pod."),
    ("number_available", "numberAvailable", "The number of nodes that should be running the daemon pod and have "
     "one or more of the daemon pod running and available"),
    ("number_misscheduled", "numberMisscheduled", "The number of nodes running a daemon pod but are not supposed to."),
    ("number_ready", "numberReady", "The number of nodes that should be running the daemon pod and have one or "
     "more of the daemon pod running and ready."),
    ("number_unavailable", "numberUnavailable", "The number of nodes that should be running the daemon pod and "
     "have none of the daemon pod running and available"),
    ("observed_generation", "observedGeneration", "The most recent generation observed by the daemon set controller."),
    ("updated_number_scheduled", "updatedNumberScheduled", "The total number of nodes that are running updated "
     "daemon pod"),
)

DAEMONSET = _common("daemonset", (
    *(gauge(f"kube_daemonset_status_{fam}", h) for fam, _, h in _DS_STATUS),
    gauge("kube_daemonset_metadata_generation", "Sequence number representing a specific generation of the "
          "desired state."),
    gauge("kube_daemonset_deletion_timestamp", DELETION_HELP),
))


def daemonset(obj: Any, opts: Options) -> Rows:
    out, meta = _start(obj, opts, "daemonsets", "daemonset", "daemonset")
    status = sub(obj, "status")
    for fam, key, _ in _DS_STATUS:
        out.add(f"kube_daemonset_status_{fam}", count(status, key))
    out.add("kube_daemonset_metadata_generation", count(meta, "generation"))
    out.maybe("kube_daemonset_deletion_timestamp", unix(meta.get("deletionTimestamp")))
    return out.rows_()


# ---- jobs -------------------------------------------------------------------------

_JOB_FAILURE_REASONS = ("BackoffLimitExceeded", "DeadlineExceeded", "Evicted")

JOB = _common("job", (
    gauge("kube_job_info", "Information about job."),
    gauge("kube_job_spec_parallelism", "The maximum desired number of pods the job should run at any given time."),
    gauge("kube_job_spec_completions", "The desired number of successfully finished pods the job should be run with."),
    gauge("kube_job_spec_active_deadline_seconds", "The duration in seconds relative to the startTime that the "
          "job may be active before the system tries to terminate it."),
    gauge("kube_job_status_succeeded", "The number of pods which reached Phase Succeeded."),
    gauge("kube_job_status_failed", "The number of pods which reached Phase Failed and the reason for failure."),
    gauge("kube_job_status_active", "The number of actively running pods."),
    gauge("kube_job_status_ready", "The number of ready pods that belong to this Job."),
    gauge("kube_job_complete", "The job has completed its execution."),
    gauge("kube_job_failed", "The job has failed its execution."),
    gauge("kube_job_status_start_time", "StartTime represents time when the job was acknowledged by the Job Manager."),
    gauge("kube_job_status_completion_time", "CompletionTime represents time when the job was completed."),
    gauge("kube_job_status_suspended", "The number of pods which reached Phase Suspended."),
    gauge("kube_job_owner", "Information about the Job's owner."),
))


def job(obj: Any, opts: Options) -> Rows:
    out, meta = _start(obj, opts, "jobs", "job", "job_name")
    spec, status = sub(obj, "spec"), sub(obj, "status")
    out.add("kube_job_info", ONE)
    out.maybe("kube_job_spec_parallelism", number(spec, "parallelism"))
    out.maybe("kube_job_spec_completions", number(spec, "completions"))
    out.maybe("kube_job_spec_active_deadline_seconds", number(spec, "activeDeadlineSeconds"))
    out.add("kube_job_status_succeeded", count(status, "succeeded"))
    failed = count(status, "failed")
    conds = items(status, "conditions")
    if failed == 0:
        out.add("kube_job_status_failed", failed)
    else:
        known = False
        for c in conds:
            if text(c, "type") == "Failed":
                for r in _JOB_FAILURE_REASONS:
                    known = known or text(c, "reason") == r
                    out.add("kube_job_status_failed", boolean(text(c, "reason") == r), ("reason", r))
        if not known:
            out.add("kube_job_status_failed", failed)
    out.add("kube_job_status_active", count(status, "active"))
    out.add("kube_job_status_ready", count(status, "ready"))
    for c in conds:
        if text(c, "type") == "Complete":
            out.conditions("kube_job_complete", text(c, "status"))
        elif text(c, "type") == "Failed":
            out.conditions("kube_job_failed", text(c, "status"))
    out.maybe("kube_job_status_start_time", unix(status.get("startTime")))
    out.maybe("kube_job_status_completion_time", unix(status.get("completionTime")))
    for c in conds:
        if text(c, "type") == "Suspended":
            out.add("kube_job_status_suspended", boolean(text(c, "status") == "True"))
    _owners(out, "kube_job_owner", meta)
    return out.rows_()


# ---- cron jobs --------------------------------------------------------------------

CRONJOB = _common("cronjob", (
    gauge("kube_cronjob_info", "Info about cronjob."),
    gauge("kube_cronjob_status_active", "Active holds pointers to currently running jobs."),
    gauge("kube_cronjob_status_last_schedule_time", "LastScheduleTime keeps information of when was the last time "
          "the job was successfully scheduled."),
    gauge("kube_cronjob_status_last_successful_time", "LastSuccessfulTime keeps information of when was the last "
          "time the job was completed successfully."),
    gauge("kube_cronjob_spec_suspend", "Suspend flag tells the controller to suspend subsequent executions."),
    gauge("kube_cronjob_spec_starting_deadline_seconds", "Deadline in seconds for starting the job if it misses "
          "scheduled time for any reason."),
    gauge("kube_cronjob_next_schedule_time", "Next time the cronjob should be scheduled. The time after "
          "lastScheduleTime, or after the cron job's creation time if it's never been scheduled. Use this to "
          "determine if the job is delayed."),
    gauge("kube_cronjob_schedule_invalid", "Emitted with value 1 for cronjobs whose schedule, in its configured "
          "timezone, cannot be parsed."),
    gauge("kube_cronjob_metadata_resource_version", "Resource version representing a specific version of the "
          "cronjob."),
    gauge("kube_cronjob_spec_successful_job_history_limit", "Successful job history limit tells the controller "
          "how many completed jobs should be preserved."),
    gauge("kube_cronjob_spec_failed_job_history_limit", "Failed job history limit tells the controller how many "
          "failed jobs should be preserved."),
))


def cronjob(obj: Any, opts: Options) -> Rows:
    out, meta = _start(obj, opts, "cronjobs", "cronjob", "cronjob")
    spec, status = sub(obj, "spec"), sub(obj, "status")
    tz = spec.get("timeZone")
    out.add("kube_cronjob_info", ONE, ("schedule", text(spec, "schedule")),
            ("concurrency_policy", text(spec, "concurrencyPolicy")),
            ("timezone", tz if isinstance(tz, str) else "local"))
    out.add("kube_cronjob_status_active", float(len(items(status, "active"))))
    out.maybe("kube_cronjob_status_last_schedule_time", unix(status.get("lastScheduleTime")))
    out.maybe("kube_cronjob_status_last_successful_time", unix(status.get("lastSuccessfulTime")))
    out.add("kube_cronjob_spec_suspend", boolean(spec.get("suspend") is True))
    out.maybe("kube_cronjob_spec_starting_deadline_seconds", number(spec, "startingDeadlineSeconds"))
    try:
        sched: cron.Schedule | None = cron.parse(text(spec, "schedule"), tz if isinstance(tz, str) else None)
    except cron.CronError:
        sched = None
        out.add("kube_cronjob_schedule_invalid", ONE)
    if sched is not None and spec.get("suspend") is not True:
        # After the last run, or after creation if it never ran; kube-state-metrics'
        # "local" zone is taken as UTC, the zone of its container image.
        since = unix(status.get("lastScheduleTime"))
        if since is None:
            since = unix(meta.get("creationTimestamp"))
        if since is not None:
            nxt = sched.next_after(datetime.fromtimestamp(since, UTC))
            if nxt is not None:
                out.add("kube_cronjob_next_schedule_time", float(int(nxt.timestamp())))
    with contextlib.suppress(ValueError):  # an opaque resourceVersion has no number to report
        out.add("kube_cronjob_metadata_resource_version", float(text(meta, "resourceVersion")))
    out.maybe("kube_cronjob_spec_successful_job_history_limit", number(spec, "successfulJobsHistoryLimit"))
    out.maybe("kube_cronjob_spec_failed_job_history_limit", number(spec, "failedJobsHistoryLimit"))
    return out.rows_()


KINDS = (
    Kind("deployments", DEPLOYMENT, deployment),
    Kind("replicasets", REPLICASET, replicaset),
    Kind("statefulsets", STATEFULSET, statefulset),
    Kind("daemonsets", DAEMONSET, daemonset),
    Kind("jobs", JOB, job),
    Kind("cronjobs", CRONJOB, cronjob),
)
