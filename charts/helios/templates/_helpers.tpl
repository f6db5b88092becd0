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
