"""Interoperability: FHIR R4 export of a patient record and regimen import."""
