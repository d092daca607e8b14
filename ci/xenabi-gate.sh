#!/bin/sh
# The ABI gate of a merge request: its head judged against its merge base with
# the target branch. Writes the GitLab Code Quality report (what the MR widget
# shows, as for Xen's MISRA jobs) and a JUnit report (one failing test per
# breaking or suspicious change), then exits as `xenabi diff` does: 0 clean,
# 1 a breaking or suspicious change or a new error, 2 unusable input.
#
# XENABI_BASE overrides the base; otherwise GitLab's merge request variables
# name it. Run from the top of a Xen clone with history (GIT_DEPTH: 0).
set -u

target=${CI_MERGE_REQUEST_TARGET_BRANCH_NAME:-staging}
base=${XENABI_BASE:-${CI_MERGE_REQUEST_DIFF_BASE_SHA:-$(git merge-base "origin/$target" HEAD)}}
quality=${XENABI_CODEQUALITY:-gl-code-quality-report.json}
junit=${XENABI_JUNIT:-tests-junit.xml}

here=$(dirname "$0")
echo "xenabi: $(git rev-parse --short "$base")..$(git rev-parse --short HEAD)"
status=0
xenabi diff "$base" HEAD --repo . --format gitlab -o "$quality" || status=$?
if [ "$status" -gt 1 ]; then
    exit "$status"  # unusable input: its one line is in the log, no report is written
fi
# the text report for the job log, and the JUnit report from the JSON one (the
# second and third runs read the first's results from the cache)
xenabi diff "$base" HEAD --repo . || true
xenabi diff "$base" HEAD --repo . --format json -o xenabi-diff.json || true
python3 "$here/xenabi-junit.py" xenabi-diff.json "$junit"
exit "$status"
