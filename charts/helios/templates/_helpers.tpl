{{/* Name prefix of every object of this release. */}}
{{- define "helios.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "helios.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "helios.labels" -}}
app.kubernetes.io/part-of: helios
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{/* Environment shared by every container: where the infrastructure is. */}}
{{- define "helios.infraEnv" -}}
- name: HELIOS_KAFKA_BOOTSTRAP_SERVERS
  value: {{ .Values.infrastructure.kafkaBootstrapServers | quote }}
- name: HELIOS_KAFKA_TOPIC_PREFIX
  value: {{ .Values.infrastructure.kafkaTopicPrefix | quote }}
- name: HELIOS_REDIS_URL
  value: {{ .Values.infrastructure.redisUrl | quote }}
- name: HELIOS_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.infrastructure.databaseSecret }}
      key: url
- name: HELIOS_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end -}}

{{/* host:port of a component's Service. */}}
{{- define "helios.target" -}}
{{ include "helios.fullname" .root }}-{{ .name }}:{{ .component.grpcPort }}
{{- end -}}

{{/* What every pod of the chart shares: no API token (nothing here calls the Kubernetes API),
the pod security context, and a writable /tmp beside the read-only root filesystem. Give it
the volumes the pod adds (a list, maybe empty). */}}
{{- define "helios.podSpec" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
volumes:
  - {name: tmp, emptyDir: {}}
  {{- with .volumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* What every container of the chart shares: the image, the container security context, the
/tmp mount, and its last log lines as the termination message when it fails (so `kubectl
describe` says why a hook failed). Give it the mounts the container adds (a list, maybe empty). */}}
{{- define "helios.container" -}}
image: {{ include "helios.image" .root }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
terminationMessagePolicy: FallbackToLogsOnError
securityContext:
  {{- toYaml .root.Values.containerSecurityContext | nindent 2 }}
volumeMounts:
  - {name: tmp, mountPath: /tmp}
  {{- with .mounts }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* The selector labels of one component's pods. */}}
{{- define "helios.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}
