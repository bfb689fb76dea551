{{/*
Chart name, truncated to the 63 characters a label value allows.
*/}}
{{- define "core-pipeline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: <release>-<chart>, or the release name alone when it already
contains the chart name.
*/}}
{{- define "core-pipeline.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Resource name with a suffix, kept within 63 characters.
Usage: include "core-pipeline.suffixed" (list $ "migrate")
*/}}
{{- define "core-pipeline.suffixed" -}}
{{- $ctx := index . 0 }}
{{- $suffix := index . 1 }}
{{- $base := include "core-pipeline.fullname" $ctx | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $base $suffix }}
{{- end }}

{{- define "core-pipeline.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Environment name: global.environment (umbrella) wins over environment.
*/}}
{{- define "core-pipeline.environment" -}}
{{- (.Values.global).environment | default .Values.environment | default "" }}
{{- end }}

{{/*
Image tag of the application: image.tag or the chart's appVersion.
*/}}
{{- define "core-pipeline.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion | toString }}
{{- end }}

{{/*
Selector labels. Usage: include "core-pipeline.selectorLabels" (dict "ctx" $ "component" "server")
The component keeps hook and test pods out of the Service and the PDB.
*/}}
{{- define "core-pipeline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "core-pipeline.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/*
Full label set. Usage: include "core-pipeline.labels" (dict "ctx" $ "component" "server")
*/}}
{{- define "core-pipeline.labels" -}}
{{- $ctx := .ctx -}}
helm.sh/chart: {{ include "core-pipeline.chart" $ctx }}
{{ include "core-pipeline.selectorLabels" (dict "ctx" $ctx "component" (.component | default "server")) }}
app.kubernetes.io/version: {{ include "core-pipeline.imageTag" $ctx | replace "+" "_" | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
app.kubernetes.io/part-of: {{ $ctx.Values.partOf | default (include "core-pipeline.name" $ctx) }}
{{- with include "core-pipeline.environment" $ctx }}
chartship.io/environment: {{ . }}
{{- end }}
{{- with $ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Image reference. Usage: include "core-pipeline.image" (dict "ctx" $ "image" .Values.image "tag" "1.0.0")
global.imageRegistry replaces the image's own registry.
*/}}
{{- define "core-pipeline.image" -}}
{{- $registry := (.ctx.Values.global).imageRegistry | default .image.registry }}
{{- $ref := .image.repository }}
{{- if $registry }}
{{- $ref = printf "%s/%s" $registry .image.repository }}
{{- end }}
{{- $tag := .tag | default .image.tag | toString }}
{{- if eq $tag "latest" }}
{{- fail (printf "image %s: the tag \"latest\" is not allowed; pin a version" .image.repository) }}
{{- end }}
{{- $ref = printf "%s:%s" $ref $tag }}
{{- with .image.digest }}
{{- $ref = printf "%s@%s" $ref . }}
{{- end }}
{{- $ref }}
{{- end }}

{{/*
imagePullSecrets from global.imagePullSecrets and imagePullSecrets, de-duplicated.
Entries are {name: x} objects or plain names.
*/}}
{{- define "core-pipeline.imagePullSecrets" -}}
{{- $names := list }}
{{- range (concat ((.Values.global).imagePullSecrets | default list) (.Values.imagePullSecrets | default list)) }}
{{- $name := . }}
{{- if kindIs "map" . }}
{{- $name = .name }}
{{- end }}
{{- if and $name (not (has $name $names)) }}
{{- $names = append $names $name }}
{{- end }}
{{- end }}
{{- if $names }}
imagePullSecrets:
{{- range $names }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{- define "core-pipeline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "core-pipeline.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Secret holding POSTGRES_USER, POSTGRES_PASSWORD and REDIS_PASSWORD.
*/}}
{{- define "core-pipeline.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "core-pipeline.fullname" .) }}
{{- end }}

{{/*
Secret the pre-install / pre-upgrade hooks read credentials from. The release
Secret does not exist yet when pre-install hooks run, so the chart renders a
hook-scoped copy unless an existing Secret is used.
*/}}
{{- define "core-pipeline.hookSecretName" -}}
{{- if or .Values.secrets.existingSecret .Values.secrets.externalSecret.enabled }}
{{- include "core-pipeline.secretName" . }}
{{- else }}
{{- include "core-pipeline.suffixed" (list . "hooks") }}
{{- end }}
{{- end }}

{{/*
Pod-level security context shared by every pod of the chart.
*/}}
{{- define "core-pipeline.podSecurityContext" -}}
{{ toYaml .Values.podSecurityContext }}
{{- end }}

{{/*
Container security context shared by every container of the chart.
*/}}
{{- define "core-pipeline.containerSecurityContext" -}}
{{ toYaml .Values.securityContext }}
{{- end }}

{{/*
Checks JSON Schema cannot express (it has no cross-field comparison).
*/}}
{{- define "core-pipeline.validate" -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas (%d) must not be greater than autoscaling.maxReplicas (%d)" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- end }}
{{- if and .Values.secrets.existingSecret .Values.secrets.externalSecret.enabled }}
{{- fail "set either secrets.existingSecret or secrets.externalSecret.enabled, not both" }}
{{- end }}
{{- if and .Values.secrets.externalSecret.enabled (not .Values.secrets.externalSecret.secretStoreRef.name) }}
{{- fail "secrets.externalSecret.secretStoreRef.name is required when secrets.externalSecret.enabled is true" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (not (or .Values.autoscaling.targetCPUUtilizationPercentage .Values.autoscaling.targetMemoryUtilizationPercentage .Values.autoscaling.customMetrics)) }}
{{- fail "autoscaling needs at least one metric: set autoscaling.targetCPUUtilizationPercentage, targetMemoryUtilizationPercentage or customMetrics" }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hostname) }}
{{- fail "ingress.hostname is required when ingress.enabled is true" }}
{{- end }}
{{- end }}

{{/*
Environment variable list of the application container: every ConfigMap key
through configMapKeyRef, every credential through secretKeyRef.
*/}}
{{- define "core-pipeline.env" -}}
{{- $cm := include "core-pipeline.fullname" . }}
{{- range $key := keys (include "core-pipeline.configData" . | fromYaml) | sortAlpha }}
- name: {{ $key }}
  valueFrom:
    configMapKeyRef:
      name: {{ $cm }}
      key: {{ $key }}
{{- end }}
{{- $secret := include "core-pipeline.secretName" . }}
{{- range $key := list "POSTGRES_USER" "POSTGRES_PASSWORD" }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
{{- if .Values.secrets.redisPasswordSecretRef.name }}
      name: {{ tpl .Values.secrets.redisPasswordSecretRef.name . }}
      key: {{ .Values.secrets.redisPasswordSecretRef.key }}
{{- else }}
      name: {{ $secret }}
      key: REDIS_PASSWORD
{{- end }}
{{- if not (or .Values.secrets.existingSecret .Values.secrets.externalSecret.enabled) }}
{{- range $key := keys .Values.secrets.apiKeys | sortAlpha }}
- name: {{ $key }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
ConfigMap data: env (rendered with tpl), APP_ENVIRONMENT and feature flags.
*/}}
{{- define "core-pipeline.configData" -}}
{{- range $key, $value := .Values.env }}
{{ $key }}: {{ tpl (toString $value) $ | quote }}
{{- end }}
{{- with include "core-pipeline.environment" . }}
APP_ENVIRONMENT: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.featureFlags }}
{{ printf "FEATURE_%s" ($name | snakecase | upper) }}: {{ toString $value | quote }}
{{- end }}
{{- end }}

{{/*
Security settings and resources every hook / test container uses.
Usage: include "core-pipeline.hookContainerDefaults" $
*/}}
{{- define "core-pipeline.hookContainerDefaults" -}}
securityContext:
  {{- include "core-pipeline.containerSecurityContext" . | nindent 2 }}
resources:
  {{- toYaml .Values.hooks.resources | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end }}

{{/*
Pod-level settings shared by hook and test pods.
*/}}
{{- define "core-pipeline.hookPodDefaults" -}}
{{- include "core-pipeline.imagePullSecrets" . }}
{{- /* pre-install hooks run before the release's ServiceAccount exists: use the namespace default, without a token */}}
automountServiceAccountToken: false
securityContext:
  {{- include "core-pipeline.podSecurityContext" . | nindent 2 }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end }}

{{/*
Hook annotations. Usage: include "core-pipeline.hookAnnotations" (dict "hook" "pre-install" "weight" "0")
*/}}
{{- define "core-pipeline.hookAnnotations" -}}
helm.sh/hook: {{ .hook }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: {{ .policy | default "before-hook-creation,hook-succeeded" }}
{{- end }}

{{/*
stringData of the chart-managed Secret.
*/}}
{{- define "core-pipeline.secretData" -}}
POSTGRES_USER: {{ .Values.secrets.postgresUser | toString | quote }}
POSTGRES_PASSWORD: {{ .Values.secrets.postgresPassword | toString | quote }}
REDIS_PASSWORD: {{ .Values.secrets.redisPassword | toString | quote }}
{{- range $key := keys .Values.secrets.apiKeys | sortAlpha }}
{{ $key }}: {{ get $.Values.secrets.apiKeys $key | toString | quote }}
{{- end }}
{{- end }}
