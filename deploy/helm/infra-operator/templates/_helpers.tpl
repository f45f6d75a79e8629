{{/* Names, labels and the Temporal connection, shared by every template. */}}

{{- define "infra-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release name, plus the chart name unless the release name contains it already. */}}
{{- define "infra-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "infra-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "infra-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (list $ "worker"). */}}
{{- define "infra-operator.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "infra-operator.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Every label of one component's objects: (list $ "worker"). */}}
{{- define "infra-operator.componentLabels" -}}
{{ include "infra-operator.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/*
The components that run as their own Deployment, space-separated (range over
`include ... | splitList " "`): with singleProcess the worker's pods run the
watcher's part too, so no object may select watcher pods that never exist.
*/}}
{{- define "infra-operator.deployedComponents" -}}
{{- if .Values.singleProcess -}}worker{{- else -}}worker watcher{{- end -}}
{{- end -}}

{{/* The ServiceAccount whose pods run one component's code: (list $ "watcher"). */}}
{{- define "infra-operator.runningServiceAccountName" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- if $root.Values.singleProcess -}}{{- $component = "worker" -}}{{- end -}}
{{- include "infra-operator.serviceAccountName" (list $root $component) -}}
{{- end -}}

{{- define "infra-operator.serviceAccountName" -}}
{{- $root := index . 0 -}}
{{- $component := index . 1 -}}
{{- $configured := (index $root.Values.serviceAccount $component).name -}}
{{- if $configured -}}
{{- $configured -}}
{{- else if $root.Values.serviceAccount.create -}}
{{- printf "%s-%s" (include "infra-operator.fullname" $root) $component | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- fail (printf "serviceAccount.%s.name is required when serviceAccount.create is false" $component) -}}
{{- end -}}
{{- end -}}

{{- define "infra-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "infra-operator.leaseName" -}}
{{- default (printf "%s-watcher" (include "infra-operator.fullname" .)) .Values.watcher.leaseName | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "infra-operator.devServerName" -}}
{{- printf "%s-temporal-dev" (include "infra-operator.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Which of the three ways reaches Temporal; fails unless exactly one is chosen,
so a release never quietly runs on the dev server it was not meant to.
*/}}
{{- define "infra-operator.temporalMode" -}}
{{- $modes := list -}}
{{- if .Values.temporal.enabled -}}{{- $modes = append $modes "temporal.enabled" -}}{{- end -}}
{{- if .Values.devServer.enabled -}}{{- $modes = append $modes "devServer.enabled" -}}{{- end -}}
{{- if .Values.externalTemporal.address -}}{{- $modes = append $modes "externalTemporal.address" -}}{{- end -}}
{{- if ne (len $modes) 1 -}}
{{- fail (printf "choose exactly one way to reach Temporal: temporal.enabled: true (the Temporal chart), devServer.enabled: true (a dev server, not for production) or externalTemporal.address; set: %v" $modes) -}}
{{- end -}}
{{- if .Values.temporal.enabled -}}chart{{- else if .Values.devServer.enabled -}}dev{{- else -}}external{{- end -}}
{{- end -}}

{{- define "infra-operator.temporalAddress" -}}
{{- $mode := include "infra-operator.temporalMode" . -}}
{{- if eq $mode "chart" -}}
{{- printf "%s-frontend.%s.svc:%v" (include "temporal.fullname" .Subcharts.temporal) .Release.Namespace (.Subcharts.temporal.Values.server.frontend.service.port | default 7233) -}}
{{- else if eq $mode "dev" -}}
{{- printf "%s.%s.svc:%v" (include "infra-operator.devServerName" .) .Release.Namespace .Values.devServer.port -}}
{{- else -}}
{{- .Values.externalTemporal.address -}}
{{- end -}}
{{- end -}}

{{/* External Temporal's TLS and API key only apply to way 3. */}}
{{- define "infra-operator.externalTls" -}}
{{- if eq (include "infra-operator.temporalMode" .) "external" -}}
{{- with .Values.externalTemporal -}}
{{- if or .tls.enabled .tls.clientCertSecret .tls.caSecret .tls.serverName .apiKey.secret -}}true{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Environment both processes share: Temporal, the task queue, the pod's own name and namespace. */}}
{{- define "infra-operator.commonEnv" -}}
- name: TEMPORAL_ADDRESS
  value: {{ include "infra-operator.temporalAddress" . | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporalNamespace | quote }}
- name: TASK_QUEUE
  value: {{ .Values.taskQueue | quote }}
- name: RESYNC_SECONDS
  value: {{ .Values.reconcile.resyncSeconds | quote }}
- name: TERMINAL_RETRY_SECONDS
  value: {{ .Values.reconcile.terminalRetrySeconds | quote }}
- name: POD_NAME
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: POD_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
{{- if include "infra-operator.externalTls" . }}
- name: TEMPORAL_TLS
  value: "true"
{{- with .Values.externalTemporal }}
{{- if .tls.clientCertSecret }}
- name: TEMPORAL_TLS_CERT_PATH
  value: /etc/temporal/tls/tls.crt
- name: TEMPORAL_TLS_KEY_PATH
  value: /etc/temporal/tls/tls.key
{{- end }}
{{- if .tls.caSecret }}
- name: TEMPORAL_TLS_CA_PATH
  value: /etc/temporal/ca/{{ .tls.caKey }}
{{- end }}
{{- if .tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ .tls.serverName | quote }}
{{- end }}
{{- if .apiKey.secret }}
- name: TEMPORAL_API_KEY_FILE
  value: /etc/temporal/api-key/{{ .apiKey.key }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Volumes and mounts for Temporal's client certificate, CA and API key, and a writable /tmp. */}}
{{- define "infra-operator.volumes" -}}
- name: tmp
  emptyDir: { sizeLimit: 64Mi }
{{- if include "infra-operator.externalTls" . }}
{{- with .Values.externalTemporal }}
{{- if .tls.clientCertSecret }}
- name: temporal-tls
  secret: { secretName: {{ .tls.clientCertSecret }}, defaultMode: 0440, items: [{ key: tls.crt, path: tls.crt }, { key: tls.key, path: tls.key }] }
{{- end }}
{{- if .tls.caSecret }}
- name: temporal-ca
  secret: { secretName: {{ .tls.caSecret }}, defaultMode: 0440, items: [{ key: {{ .tls.caKey }}, path: {{ .tls.caKey }} }] }
{{- end }}
{{- if .apiKey.secret }}
- name: temporal-api-key
  secret: { secretName: {{ .apiKey.secret }}, defaultMode: 0440, items: [{ key: {{ .apiKey.key }}, path: {{ .apiKey.key }} }] }
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "infra-operator.volumeMounts" -}}
- { name: tmp, mountPath: /tmp }
{{- if include "infra-operator.externalTls" . }}
{{- with .Values.externalTemporal }}
{{- if .tls.clientCertSecret }}
- { name: temporal-tls, mountPath: /etc/temporal/tls, readOnly: true }
{{- end }}
{{- if .tls.caSecret }}
- { name: temporal-ca, mountPath: /etc/temporal/ca, readOnly: true }
{{- end }}
{{- if .apiKey.secret }}
- { name: temporal-api-key, mountPath: /etc/temporal/api-key, readOnly: true }
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Liveness and readiness on the process's HTTP port, named "http". */}}
{{- define "infra-operator.probes" -}}
livenessProbe:
  httpGet: { path: /healthz, port: http }
  {{- toYaml .Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet: { path: /readyz, port: http }
  {{- toYaml .Values.probes.readiness | nindent 2 }}
{{- end -}}
