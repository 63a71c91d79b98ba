pub struct SambaDc;
