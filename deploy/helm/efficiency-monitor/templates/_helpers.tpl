{{/* Chart name, truncated to 63 characters (DNS label). */}}
{{- define "efficiency-monitor.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name when it already contains the chart name. */}}
{{- define "efficiency-monitor.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "efficiency-monitor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "efficiency-monitor.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "efficiency-monitor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "efficiency-monitor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Name of the Secret holding the passwords. */}}
{{- define "efficiency-monitor.secretName" -}}
{{- default (include "efficiency-monitor.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* Name of the Secret holding the API key (api.existingSecret, or the one the chart creates from api.key). */}}
{{- define "efficiency-monitor.apiSecretName" -}}
{{- default (printf "%s-api" (include "efficiency-monitor.fullname" .)) .Values.api.existingSecret }}
{{- end }}
